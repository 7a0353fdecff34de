// SPDX-License-Identifier: GPL-2.0
/* The per-container figures' table (fields.h) and the little it needs. */
#include <string.h>
#include "fields.h"

const char *const vp_field_group_names[VP_GRP_MAX] = {
    [VP_GRP_TOP] = "",		 [VP_GRP_GROUPS] = "groups",	 [VP_GRP_MDEV] = "mdev",
    [VP_GRP_PT] = "passthrough", [VP_GRP_INV] = "invalidations",
};

/* every figure is a __u64 of the struct: checked as the table is built */
#define VP_FIELD_OFF(member)                                                                       \
	(offsetof(struct vp_container, member) +                                                   \
	 0 * sizeof(char[sizeof(((struct vp_container *)0)->member) == sizeof(__u64) ? 1 : -1]))

const struct vp_field vp_fields[VP_FLD_MAX] = {
#define VP_FIELD_ROW(id_, group_, json_, prom_, type_, unit_, member_, flags_, col_, help_)        \
	[VP_FLD_##id_] = {.id = #id_,                                                              \
			  .group = VP_GRP_##group_,                                                \
			  .json = json_,                                                           \
			  .prom = prom_,                                                           \
			  .type = VP_FT_##type_,                                                   \
			  .unit = unit_,                                                           \
			  .member = #member_,                                                      \
			  .off = VP_FIELD_OFF(member_),                                            \
			  .flags = flags_,                                                         \
			  .col = col_,                                                             \
			  .help = help_},
    VP_FIELDS(VP_FIELD_ROW)
#undef VP_FIELD_ROW
};

const struct vp_lat_field vp_lat_fields[VP_LAT_MAX] = {
    [VP_LAT_PIN] = {"pin", "pin_duration_seconds", "pin latency per vfio_pin_pages call",
		    "Time of one vfio_pin_pages call.", 0},
    [VP_LAT_PIN_PAGE] = {"pin_page", "pin_page_duration_seconds", "pin latency per page",
			 "Time per page of vfio_pin_pages calls (call time / pages).", 0},
    [VP_LAT_UNPIN] = {"unpin", "unpin_duration_seconds", "unpin latency per vfio_unpin_pages call",
		      "Time of one vfio_unpin_pages call.", 0},
    [VP_LAT_UNPIN_PAGE] = {"unpin_page", "unpin_page_duration_seconds", "unpin latency per page",
			   "Time per page of vfio_unpin_pages calls.", 0},
    [VP_LAT_INV] = {"invalidate", "invalidation_duration_seconds",
		    "invalidation latency (DMA unmap -> vendor drivers dropped pins)",
		    "Time to invalidate vendor-driver pins for one DMA unmap.", VP_FF_TP},
    [VP_LAT_MAP] = {"dma_map", "dma_map_duration_seconds", "MAP_DMA latency (passthrough pinning)",
		    "Time of a VFIO_IOMMU_MAP_DMA that pinned pages.", 0},
    [VP_LAT_REPLAY] = {"replay", "replay_duration_seconds",
		       "replay latency (pinning into a new IOMMU domain)",
		       "Time to replay the mappings into a new IOMMU domain.", 0},
};

uint64_t vp_field_get(const struct vp_container *c, enum vp_field_id id)
{
	__u64 v;

	memcpy(&v, (const char *)c + vp_fields[id].off, sizeof(v));
	return v;
}

bool vp_flags_available(unsigned int flags, unsigned int lacks)
{
	return !(flags & lacks);
}

bool vp_field_available(enum vp_field_id id, unsigned int lacks)
{
	return vp_flags_available(vp_fields[id].flags, lacks);
}

void vp_fields_add(struct vp_container *total, const struct vp_container *c)
{
	for (int i = 0; i < VP_FLD_MAX; i++) {
		__u64 v;

		if (vp_fields[i].flags & VP_FF_NOSUM)
			continue;
		v = vp_field_get(total, i) + vp_field_get(c, i);
		memcpy((char *)total + vp_fields[i].off, &v, sizeof(v));
	}
}

#define VP_GLOBAL_OFF(member)                                                                      \
	(offsetof(struct vp_globals, member) +                                                     \
	 0 * sizeof(char[sizeof(((struct vp_globals *)0)->member) == sizeof(__u64) ? 1 : -1]))

static const char drops_help[] =
    "Observations lost: no room for a container (or, in fentry/kprobe mode, for a "
    "vendor-pinned page), the event stream full, or no room to "
    "remember a call in flight.";

const struct vp_global_field vp_global_fields[VP_GLOBALS_MAX] = {
    {"map_full", true, "drops_total", "map full", VP_GLOBAL_OFF(drop_map_full), drops_help},
    {"ringbuf", true, "drops_total", "ring buffer", VP_GLOBAL_OFF(drop_ringbuf), drops_help},
    {"inflight", true, "drops_total", "in-flight", VP_GLOBAL_OFF(drop_inflight), drops_help},
    {"unmatched_end", false, "unmatched_ends_total", "unmatched ends", VP_GLOBAL_OFF(unmatched_end),
     "Call ends seen without their beginning (attached during the call)."},
    {"late_events", false, "late_events_total", "late events", VP_GLOBAL_OFF(late_events),
     "Events of a container already retired (not counted to it)."},
};

__u64 vp_global_get(const struct vp_globals *g, int i)
{
	__u64 v;

	memcpy(&v, (const char *)g + vp_global_fields[i].off, sizeof(v));
	return v;
}

const char *const vp_event_names[VP_EV_MAX] = {
#define VP_EV_NAME(id, name, ...) [VP_EV_##id] = #name,
    VP_EVENTS(VP_EV_NAME)
#undef VP_EV_NAME
};

int vp_event_parse(const char *name)
{
	for (int i = 0; i < VP_EV_MAX; i++)
		if (!strcmp(name, vp_event_names[i]))
			return i;
	return -1;
}
