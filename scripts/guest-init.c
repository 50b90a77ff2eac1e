// SPDX-License-Identifier: GPL-2.0
/*
 * guest-init: PID 1 of every bhlock test boot, in front of virtme-ng's own init.
 *
 * scripts/setup.sh builds this (static: the guest's root is the host's, over 9p without a
 * cache, where every exec of a dynamic binary costs about 0.25 s under TCG) and installs it
 * in the venv's virtme-ng as guest/bin/virtme-ng-init, the path vng passes as init=; the
 * real init stays beside it as virtme-ng-init.real, which this execs once it has:
 *
 *  - hidden systemd-udevd (an overlay on /usr with a whiteout for it), so that virtme-ng-init
 *    says "unable to find udevd, skip udev" instead of a coldplug and settle of 10 to 60 s;
 *  - hidden /etc/systemd (an overlay on /etc), so that it skips systemd-tmpfiles (1.5 to
 *    4 s), which nothing a bhlock test uses needs;
 *  - hidden /usr/bin/perl (in the overlay on /usr), so that the kernel's kselftest runner
 *    prefixes each test's output with sed, its fallback for a machine without perl, instead
 *    of kselftest/prefix.pl: perl's start with IO::Handle costs 0.9 to 1.3 s a test under
 *    TCG, sed's 0.2 s. Nothing else in a bhlock boot runs perl;
 *  - made the /dev/virtio-ports/<name> links that udev would have made
 *    (KERNEL=="vport*", SYMLINK+="virtio-ports/$attr{name}"): virtme-ng-init runs the script
 *    with its stdin, stdout, stderr and exit status on those ports;
 *  - put the directory bhlock-path beside it first in PATH, where setup.sh links "ip" to this
 *    program: virtme-ng-init's one ip(8) command, "ip link set dev lo up", is then an ioctl
 *    (as_ip) instead of the first start of /usr/bin/ip in the boot, which reads the binary
 *    and its libraries over 9p: about 2 s of a 5-s boot to the script under TCG. Any other
 *    ip command runs /usr/bin/ip.
 *
 * virtme-ng-init then mounts its own overlays over these two (with these as their lower
 * layer), a fresh /run over the tmpfs that holds their upper layers, and devtmpfs again
 * (one instance: the links stay). Every step logs to the console as "bhlock-init:";
 * scripts/vng-run.sh fails a boot without "bhlock-init: ready", or one that ran udev, with the
 * reason, so that a virtme-ng that no longer boots this way fails clearly instead of slowly.
 * Verified with virtme-ng 1.42 (VNG_VERSION in scripts/lib.sh).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <net/if.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdnoreturn.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

/* The ports virtme-ng-init 1.42 opens for a script (run_user_script()). */
static const char *const script_ports[] = {
	"virtme.stdin", "virtme.stdout", "virtme.stderr",
	"virtme.dev_stdout", "virtme.dev_stderr", "virtme.ret", NULL,
};

/* How long the virtio-console driver may take to learn the ports' names from QEMU. */
#define PORT_WAIT_MS 10000
#define PORT_POLL_MS 5

static char real_init[PATH_MAX];
static char **init_argv;

static void say(const char *fmt, ...)
{
	char msg[512];
	int len = snprintf(msg, sizeof(msg), "bhlock-init: ");
	va_list ap;
	int fd;

	va_start(ap, fmt);
	len += vsnprintf(msg + len, sizeof(msg) - len, fmt, ap);
	va_end(ap);
	if (len >= (int)sizeof(msg))
		len = sizeof(msg) - 1;
	msg[len++] = '\n';
	fd = open("/dev/kmsg", O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		fd = 1;
	if (write(fd, msg, len) < 0)
		return;
	if (fd != 1)
		close(fd);
}

static noreturn void boot_on(void)
{
	execv(real_init, init_argv);
	say("FATAL: cannot run %s: %s", real_init, strerror(errno));
	_exit(1);
}

/*
 * Boots on regardless (virtme-ng-init then runs udev, or finds no ports), after saying why
 * the host will fail the boot.
 */
static noreturn void fatal(const char *fmt, ...)
{
	char msg[400];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	say("FATAL: %s (virtme-ng changed? see bhlock's guest init)", msg);
	boot_on();
}

/* mkdir -p */
static void make_dirs(const char *path)
{
	char buf[PATH_MAX];
	char *p;

	snprintf(buf, sizeof(buf), "%s", path);
	for (p = buf + 1; ; p++) {
		if (*p != '/' && *p)
			continue;
		char c = *p;

		*p = '\0';
		if (mkdir(buf, 0755) && errno != EEXIST)
			fatal("cannot create %s: %s", buf, strerror(errno));
		*p = c;
		if (!c)
			return;
	}
}

static void mount_or_die(const char *src, const char *dir, const char *type,
			 unsigned long flags, const char *opts)
{
	if (mount(src, dir, type, flags, opts))
		fatal("cannot mount %s on %s: %s", type, dir, strerror(errno));
}

/*
 * An overlay on @dir whose upper layer holds a whiteout (a 0:0 character device) for each
 * of @paths, all under @dir, made before the mount: no copy-up, and a whole directory goes
 * in one entry.
 */
static void hide(const char *dir, const char *const *paths)
{
	char top[PATH_MAX], upper[PATH_MAX], work[PATH_MAX], opts[3 * PATH_MAX + 64];
	char path[PATH_MAX], name[64];
	const char *const *p;
	char *slash;

	snprintf(top, sizeof(top), "/run/bhlock-init%s", dir);
	snprintf(upper, sizeof(upper), "%s/upper", top);
	snprintf(work, sizeof(work), "%s/work", top);
	make_dirs(work);
	for (p = paths; *p; p++) {
		snprintf(path, sizeof(path), "%s/%s", upper, *p + strlen(dir) + 1);
		slash = strrchr(path, '/');
		*slash = '\0';
		make_dirs(path);
		*slash = '/';
		if (mknod(path, S_IFCHR, makedev(0, 0)))
			fatal("cannot white out %s: %s", *p, strerror(errno));
	}
	snprintf(opts, sizeof(opts), "xino=off,lowerdir=%s,upperdir=%s,workdir=%s",
		 dir, upper, work);
	snprintf(name, sizeof(name), "bhlock-init%s", dir);
	mount_or_die(name, dir, "overlay", 0, opts);
	for (p = paths; *p; p++)
		if (!access(*p, F_OK))
			fatal("%s is still there", *p);
}

/* Links every named port; returns the first script port still missing, or NULL. */
static const char *link_ports(void)
{
	char path[PATH_MAX], target[PATH_MAX], link[PATH_MAX], name[128];
	const char *const *p;
	struct dirent *d;
	ssize_t len;
	DIR *dir;
	int fd;

	dir = opendir("/sys/class/virtio-ports");
	while (dir && (d = readdir(dir))) {
		if (strncmp(d->d_name, "vport", 5))
			continue;
		snprintf(path, sizeof(path), "/sys/class/virtio-ports/%s/name", d->d_name);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			continue;
		len = read(fd, name, sizeof(name) - 1);
		close(fd);
		while (len > 0 && name[len - 1] == '\n')
			len--;
		if (len <= 0)
			continue;
		name[len] = '\0';
		snprintf(link, sizeof(link), "/dev/virtio-ports/%s", name);
		snprintf(target, sizeof(target), "../%s", d->d_name);
		unlink(link);
		if (symlink(target, link))
			fatal("cannot link %s: %s", link, strerror(errno));
	}
	if (dir)
		closedir(dir);
	for (p = script_ports; *p; p++) {
		snprintf(link, sizeof(link), "/dev/virtio-ports/%s", *p);
		if (access(link, F_OK))
			return *p;
	}
	return NULL;
}

/*
 * This program run as ip(8): "ip link set dev lo up" with an ioctl, anything else by
 * /usr/bin/ip itself.
 */
static int as_ip(char **argv)
{
	static const char *const lo_up[] = { "link", "set", "dev", "lo", "up", NULL };
	struct ifreq ifr = { .ifr_name = "lo" };
	int i, fd;

	for (i = 0; lo_up[i] && argv[i + 1] && !strcmp(argv[i + 1], lo_up[i]); i++)
		;
	if (lo_up[i] || argv[i + 1]) {
		execv("/usr/bin/ip", argv);
		fprintf(stderr, "bhlock-init: cannot run /usr/bin/ip: %s\n", strerror(errno));
		return 127;
	}
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || ioctl(fd, SIOCGIFFLAGS, &ifr)) {
		fprintf(stderr, "bhlock-init: lo: %s\n", strerror(errno));
		return 1;
	}
	ifr.ifr_flags |= IFF_UP;
	if (ioctl(fd, SIOCSIFFLAGS, &ifr)) {
		fprintf(stderr, "bhlock-init: lo up: %s\n", strerror(errno));
		return 1;
	}
	close(fd);
	return 0;
}

int main(int argc, char **argv)
{
	static const char *const usr[] = {
		"/usr/lib/systemd/systemd-udevd", "/usr/bin/perl", NULL,
	};
	static const char *const etc[] = { "/etc/systemd", NULL };
	const struct timespec poll = { .tv_nsec = PORT_POLL_MS * 1000000L };
	const char *missing;
	int waited = 0;

	const char *slash = strrchr(argv[0], '/');
	char path[PATH_MAX];

	if (!strcmp(slash ? slash + 1 : argv[0], "ip"))
		return as_ip(argv);
	(void)argc;
	init_argv = argv;
	snprintf(real_init, sizeof(real_init), "%s.real", argv[0]);
	/* The kernel gives init no PATH; virtme-ng-init puts its own after this one. */
	snprintf(path, sizeof(path), "%.*s/bhlock-path", slash ? (int)(slash - argv[0]) : 1,
		 slash ? argv[0] : ".");
	setenv("PATH", path, 1);

	/*
	 * The test kernels have no DEVTMPFS_MOUNT: /dev is the host's, read-only. The tmpfs on
	 * /run is the writable layer of the two overlays.
	 */
	mount_or_die("devtmpfs", "/dev", "devtmpfs", MS_NOSUID | MS_NOEXEC, NULL);
	mount_or_die("proc", "/proc", "proc", MS_NOSUID | MS_NOEXEC | MS_NODEV, NULL);
	mount_or_die("sysfs", "/sys", "sysfs", MS_NOSUID | MS_NOEXEC | MS_NODEV, NULL);
	mount_or_die("bhlock-init", "/run", "tmpfs", 0, "mode=0755");
	hide("/usr", usr);
	hide("/etc", etc);

	make_dirs("/dev/virtio-ports");
	while ((missing = link_ports())) {
		if (waited >= PORT_WAIT_MS)
			fatal("virtio port %s not there after %d ms", missing, waited);
		nanosleep(&poll, NULL);
		waited += PORT_POLL_MS;
	}

	/* virtme-ng-init mounts these itself, and refuses (EBUSY) a devtmpfs already on /dev. */
	umount("/sys");
	umount("/proc");
	umount("/dev");
	say("ready: udevd, tmpfiles, perl hidden; ip ours; virtio-port links made (waited %d ms)",
	    waited);
	boot_on();
}
