// SPDX-License-Identifier: GPL-2.0
/*
 * The unit tests of tests/host/unit/, in one cmocka group.
 */
#include "unit.h"

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_slot_bounds),
	    cmocka_unit_test(test_hist_quantiles),
	    cmocka_unit_test(test_hist_range_race),
	    cmocka_unit_test(test_lin_quantiles),
	    cmocka_unit_test(test_hist_print),
	    cmocka_unit_test(test_row_derive),
	    cmocka_unit_test(test_sort_and_total),
	    cmocka_unit_test(test_json_snapshot),
	    cmocka_unit_test(test_events),
	    cmocka_unit_test(test_format_row),
	    cmocka_unit_test(test_hostile_strings),
	    cmocka_unit_test(test_arg_helpers),
	    cmocka_unit_test(test_prom),
	    cmocka_unit_test(test_vms),
	    cmocka_unit_test(test_vm_advice_sources),
	    cmocka_unit_test(test_vm_plugged),
	    cmocka_unit_test(test_vm_refused_start),
	    cmocka_unit_test(test_vm_many_containers),
	    cmocka_unit_test(test_vm_name_parse),
	    cmocka_unit_test(test_vm_names),
	    cmocka_unit_test(test_sort_keeps_vms),
	    cmocka_unit_test(test_select_apply),
	    cmocka_unit_test(test_listen_parse),
	    cmocka_unit_test(test_accepts_gzip),
	    cmocka_unit_test(test_stats),
	    cmocka_unit_test(test_stats_vs_pairs),
	    cmocka_unit_test(test_holm),
	    cmocka_unit_test(test_timeline),
	    cmocka_unit_test(test_field_table),
	    cmocka_unit_test(test_benchfile_roundtrip),
	};

	return cmocka_run_group_tests_name("vfiopin userspace", tests, NULL, NULL);
}
