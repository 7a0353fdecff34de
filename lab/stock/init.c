// SPDX-License-Identifier: GPL-2.0
/*
 * /init of the stock lab's initramfs: Debian's kernel has virtio and 9p as
 * modules, so load them (the order is /modules.order, one path a line),
 * mount the host's / over 9p read-only as the lab does, devtmpfs on its
 * /dev, and hand over to the init= program on the kernel command line
 * (lab/guest-init.sh).
 * Static, no shell: the initramfs holds this file and the modules only.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

static void say(const char *what, const char *arg)
{
	fprintf(stderr, "stock-init: %s %s\n", what, arg ? arg : "");
}

static void load_modules(void)
{
	char line[512];
	FILE *f = fopen("/modules.order", "r");

	if (!f) {
		say("no /modules.order", NULL);
		return;
	}
	while (fgets(line, sizeof(line), f)) {
		int fd;

		line[strcspn(line, "\n")] = 0;
		if (!line[0])
			continue;
		fd = open(line, O_RDONLY | O_CLOEXEC);
		if (fd < 0 || syscall(SYS_finit_module, fd, "", 0))
			perror(line);
		if (fd >= 0)
			close(fd);
	}
	fclose(f);
}

/*
 * The values of init= and rootflags= on the kernel command line (lab/run.sh
 * sets both; the 9p options are its, not this file's).
 */
static void from_cmdline(char **init, char **rootflags)
{
	static char buf[4096];
	char *p;
	int fd = open("/proc/cmdline", O_RDONLY);
	ssize_t n = fd >= 0 ? read(fd, buf, sizeof(buf) - 1) : -1;

	*init = *rootflags = NULL;
	if (fd >= 0)
		close(fd);
	if (n <= 0)
		return;
	buf[n] = 0;
	for (p = strtok(buf, " \n"); p; p = strtok(NULL, " \n")) {
		if (!strncmp(p, "init=", 5))
			*init = p + 5;
		else if (!strncmp(p, "rootflags=", 10))
			*rootflags = p + 10;
	}
}

int main(void)
{
	char *init, *rootflags;

	mkdir("/proc", 0755);
	mkdir("/newroot", 0755);
	mount("proc", "/proc", "proc", 0, NULL);
	load_modules();
	from_cmdline(&init, &rootflags);
	if (!rootflags) {
		say("no rootflags= on the kernel command line", NULL);
		return 1;
	}
	if (mount("root", "/newroot", "9p", MS_RDONLY, rootflags)) {
		perror("stock-init: mount the 9p root");
		return 1;
	}
	/* what CONFIG_DEVTMPFS_MOUNT does for a kernel booted without an initramfs */
	if (mount("devtmpfs", "/newroot/dev", "devtmpfs", 0, NULL))
		perror("stock-init: mount devtmpfs on /dev");
	umount("/proc");
	if (chdir("/newroot") || mount(".", "/", NULL, MS_MOVE, NULL) || chroot(".") ||
	    chdir("/")) {
		perror("stock-init: switch to the 9p root");
		return 1;
	}
	if (!init) {
		say("no init= on the kernel command line", NULL);
		return 1;
	}
	execl(init, init, (char *)NULL);
	perror(init);
	return 1;
}
