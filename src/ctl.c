/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ctl: the control socket's server (protocol and rules in ctl.h).
 *
 * Each client is a small state machine: READ (its request accumulates in a
 * buffer that grows up to the header limit, then to the announced body
 * size), WRITE (the answer, built in memory by rp_ctl_exec, is sent as the
 * socket accepts it), then closed. Sockets are non-blocking and watched by
 * one epoll set; rp_ctl_poll() handles what is ready without waiting, so a
 * slow, stuck or malicious client costs the control thread a few system
 * calls, never a wait. Deadlines (ctl.h) drop clients that stall.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <grp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "cfg.h"
#include "ctl.h"
#include "dp_ct.h"
#include "log.h"

#ifndef SO_PEERGROUPS
#define SO_PEERGROUPS 59
#endif

enum { CS_READ, CS_WRITE, CS_STREAM };
#define CTL_STREAMS_MAX 16          /* conntrack -E readers at once */
#define CTL_STREAM_BUF (4u << 20)  /* a reader's unread events, at most */
#define CTL_STREAM_DRAIN 16384      /* events read from the workers per loop */
enum { ROLE_NONE, ROLE_READ, ROLE_ADMIN };

struct conn {
	int fd;
	uint8_t state, role;
	uid_t uid;
	pid_t pid;
	char *in;
	size_t in_len, in_cap;
	char *out;
	size_t out_len, out_off;
	uint64_t deadline; /* ms, CLOCK_MONOTONIC */
	unsigned slot;
	/* CS_STREAM (conntrack -E): the subscription, the events it lost (not
	 * read in time) not yet told, its buffer's size */
	struct rp_ctl_events *ev;
	uint64_t ev_lost;   /* not read in time */
	uint64_t ring_lost; /* the workers' queues were full */
	size_t out_cap;
	uint32_t ep_events; /* what epoll watches for it now */
};

struct rp_ctl {
	int fd, ep;
	char path[108];
	long gid, ro_gid;
	char group[64];
	struct rp_ctl_env *env;
	struct conn *conns[CTL_CONN_MAX];
	unsigned n_conns;
	struct conn *streams[CTL_STREAMS_MAX];
	unsigned n_streams;
	uint64_t refused_log_t; /* rate limit of refusal logs */
	unsigned refused_log_n;
};

static uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static int mkdirs(const char *path)
{
	char tmp[108];
	snprintf(tmp, sizeof(tmp), "%s", path);
	char *slash = strrchr(tmp, '/');
	if (slash == NULL || slash == tmp)
		return 0;
	*slash = '\0';
	for (char *p = tmp + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(tmp, 0755) < 0 && errno != EEXIST)
			return -1;
		*p = '/';
	}
	if (mkdir(tmp, 0755) < 0 && errno != EEXIST)
		return -1;
	return 0;
}

/*
 * A read-only group needs to connect to a 0660 root:group socket too: it
 * gets its own entry in the socket's POSIX access ACL (user::rw-,
 * group::rw-, group:RO:rw-, mask::rw-, other::---), written as the
 * system.posix_acl_access extended attribute (no libacl needed).
 */
#include <sys/xattr.h>
static int acl_add_group(const char *path, long gid)
{
	struct {
		uint32_t version;
		struct {
			uint16_t tag, perm;
			uint32_t id;
		} __attribute__((packed)) e[5];
	} __attribute__((packed)) acl = {
		.version = 2,
		.e = {
			{ 0x01, 6, 0xffffffffu }, /* ACL_USER_OBJ rw */
			{ 0x04, 6, 0xffffffffu }, /* ACL_GROUP_OBJ rw */
			{ 0x08, 6, (uint32_t)gid }, /* ACL_GROUP rw */
			{ 0x10, 6, 0xffffffffu }, /* ACL_MASK rw */
			{ 0x20, 0, 0xffffffffu }, /* ACL_OTHER --- */
		},
	};
	return setxattr(path, "system.posix_acl_access", &acl, sizeof(acl), 0);
}

struct rp_ctl *rp_ctl_open(const struct cfg *cf, struct rp_ctl_env *env)
{
	const char *path = cf->ctl_socket;
	struct sockaddr_un sa;
	if (strlen(path) >= sizeof(sa.sun_path)) {
		RP_ERR("ctl", "control socket path too long: %s", path);
		return NULL;
	}
	if (mkdirs(path) < 0) {
		RP_ERR("ctl", "cannot create the directory of %s: %s", path, strerror(errno));
		return NULL;
	}
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		RP_ERR("ctl", "socket: %s", strerror(errno));
		return NULL;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	memcpy(sa.sun_path, path, strlen(path));
	/* a socket left by a daemon that died: replace it, unless one answers */
	struct stat st;
	if (lstat(path, &st) == 0 && S_ISSOCK(st.st_mode)) {
		int probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (probe >= 0 && connect(probe, (struct sockaddr *)&sa, sizeof(sa)) == 0) {
			close(probe);
			close(fd);
			RP_ERR("ctl", "%s: another rampartd is listening there", path);
			return NULL;
		}
		if (probe >= 0)
			close(probe);
		unlink(path);
	}
	mode_t old = umask(0177); /* born 0600: nobody else may connect before chown/chmod */
	int rc = bind(fd, (struct sockaddr *)&sa, sizeof(sa));
	umask(old);
	if (rc < 0) {
		RP_ERR("ctl", "cannot listen on %s: %s", path, strerror(errno));
		close(fd);
		return NULL;
	}
	if ((cf->ctl_gid >= 0 && chown(path, 0, (gid_t)cf->ctl_gid) < 0) || chmod(path, 0660) < 0) {
		RP_ERR("ctl", "%s: cannot set owner root:%s and mode 0660: %s", path, cf->ctl_group,
		       strerror(errno));
		close(fd);
		unlink(path);
		return NULL;
	}
	if (cf->ctl_ro_gid >= 0 && acl_add_group(path, cf->ctl_ro_gid) < 0)
		RP_WARN("ctl", "%s: cannot give group %s access (ACL: %s); its members cannot connect",
			path, cf->ctl_ro_group, strerror(errno));
	struct rp_ctl *c = calloc(1, sizeof(*c));
	if (c == NULL || listen(fd, 128) < 0 || (c->ep = epoll_create1(EPOLL_CLOEXEC)) < 0) {
		RP_ERR("ctl", "cannot listen on %s: %s", path, strerror(errno));
		free(c);
		close(fd);
		unlink(path);
		return NULL;
	}
	struct epoll_event ev = { .events = EPOLLIN, .data.u32 = CTL_CONN_MAX };
	epoll_ctl(c->ep, EPOLL_CTL_ADD, fd, &ev);
	c->fd = fd;
	c->gid = cf->ctl_gid;
	c->ro_gid = cf->ctl_ro_gid;
	snprintf(c->group, sizeof(c->group), "%s", cf->ctl_group[0] ? cf->ctl_group : "(none)");
	c->env = env;
	snprintf(c->path, sizeof(c->path), "%s", path);
	RP_INFO("ctl", "control socket %s (group %s%s%s)", path, c->group,
		cf->ctl_ro_gid >= 0 ? ", read-only group " : "", cf->ctl_ro_group);
	return c;
}

static void conn_close(struct rp_ctl *c, struct conn *k)
{
	if (k->ev != NULL) {
		rp_ctl_events_close(c->env, k->ev);
		for (unsigned i = 0; i < c->n_streams; i++)
			if (c->streams[i] == k) {
				c->streams[i] = c->streams[--c->n_streams];
				break;
			}
	}
	epoll_ctl(c->ep, EPOLL_CTL_DEL, k->fd, NULL);
	close(k->fd);
	c->conns[k->slot] = NULL;
	c->n_conns--;
	free(k->in);
	free(k->out);
	free(k);
}

void rp_ctl_close(struct rp_ctl *c)
{
	if (c == NULL)
		return;
	for (unsigned i = 0; i < CTL_CONN_MAX; i++) {
		struct conn *k = c->conns[i];
		if (k == NULL)
			continue;
		if (k->state == CS_STREAM) { /* best effort: the rest, the end, and why */
			static const char bye[] = "\n%% ok events ended: rampartd is stopping\n";
			ssize_t w = 0;
			while (k->out_off < k->out_len &&
			       (w = send(k->fd, k->out + k->out_off, k->out_len - k->out_off,
					 MSG_NOSIGNAL | MSG_DONTWAIT)) > 0)
				k->out_off += (size_t)w;
			/* after a whole line: no blank line before the last one */
			bool whole = k->out_off == 0 || k->out[k->out_off - 1] == '\n';
			w = send(k->fd, bye + whole, sizeof(bye) - 1 - whole, MSG_NOSIGNAL | MSG_DONTWAIT);
			(void)w;
		}
		conn_close(c, k);
	}
	close(c->ep);
	close(c->fd);
	unlink(c->path);
	free(c);
}

/* Who is at the other end: root and control.group change, the read-only
 * group reads, nobody else. */
static uint8_t peer_role(const struct rp_ctl *c, int fd, uid_t *uid, pid_t *pid)
{
	struct ucred cr;
	socklen_t len = sizeof(cr);
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &len) < 0)
		return ROLE_NONE;
	*uid = cr.uid;
	*pid = cr.pid;
	if (cr.uid == 0)
		return ROLE_ADMIN;
	gid_t groups[256];
	len = sizeof(groups);
	int n = 0;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups, &len) == 0)
		n = (int)(len / sizeof(gid_t));
	bool admin = c->gid >= 0 && cr.gid == (gid_t)c->gid;
	bool ro = c->ro_gid >= 0 && cr.gid == (gid_t)c->ro_gid;
	for (int i = 0; i < n; i++) {
		admin |= c->gid >= 0 && groups[i] == (gid_t)c->gid;
		ro |= c->ro_gid >= 0 && groups[i] == (gid_t)c->ro_gid;
	}
	return admin ? ROLE_ADMIN : ro ? ROLE_READ : ROLE_NONE;
}

static void refuse_log(struct rp_ctl *c, const char *fmt, uid_t uid, pid_t pid, const char *what)
{
	uint64_t t = now_ms();
	if (t - c->refused_log_t >= 1000) {
		if (c->refused_log_n > 10)
			RP_WARN("ctl", "%u more refusals not logged", c->refused_log_n - 10);
		c->refused_log_t = t;
		c->refused_log_n = 0;
	}
	if (c->refused_log_n++ < 10)
		RP_WARN("ctl", fmt, (unsigned)uid, (int)pid, what);
}

/* Queue an answer and switch to writing it. */
static void conn_answer(struct rp_ctl *c, struct conn *k, char *text, size_t len)
{
	free(k->in);
	k->in = NULL;
	k->in_len = k->in_cap = 0;
	k->out = text;
	k->out_len = len;
	k->out_off = 0;
	k->state = CS_WRITE;
	k->deadline = now_ms() + CTL_IDLE_MS;
	struct epoll_event ev = { .events = EPOLLOUT, .data.u32 = k->slot };
	epoll_ctl(c->ep, EPOLL_CTL_MOD, k->fd, &ev);
}

static void conn_error(struct rp_ctl *c, struct conn *k, const char *msg)
{
	char *s = NULL;
	int n = asprintf(&s, "%%%% error: %s\n", msg);
	if (n < 0) {
		conn_close(c, k);
		return;
	}
	conn_answer(c, k, s, (size_t)n);
}

static void accept_one(struct rp_ctl *c, int fd)
{
	unsigned slot = CTL_CONN_MAX;
	for (unsigned i = 0; i < CTL_CONN_MAX && c->n_conns < CTL_CONN_MAX; i++)
		if (c->conns[i] == NULL) {
			slot = i;
			break;
		}
	struct conn *k = slot < CTL_CONN_MAX ? calloc(1, sizeof(*k)) : NULL;
	if (k == NULL) {
		static const char busy[] = "%% error: too many clients, try again\n";
		ssize_t w = write(fd, busy, sizeof(busy) - 1); /* non-blocking, best effort */
		(void)w;
		close(fd);
		return;
	}
	k->fd = fd;
	k->slot = slot;
	k->state = CS_READ;
	k->deadline = now_ms() + CTL_HEAD_MS;
	c->conns[slot] = k;
	c->n_conns++;
	struct epoll_event ev = { .events = EPOLLIN, .data.u32 = slot };
	if (epoll_ctl(c->ep, EPOLL_CTL_ADD, fd, &ev) < 0) {
		c->conns[slot] = NULL;
		c->n_conns--;
		close(fd);
		free(k);
		return;
	}
	k->role = peer_role(c, fd, &k->uid, &k->pid);
	if (k->role == ROLE_NONE) {
		refuse_log(c, "control socket: uid %u (pid %d) refused: %s", k->uid, k->pid,
			   "neither root nor a member of the control groups");
		char msg[160];
		snprintf(msg, sizeof(msg), "permission denied: uid %u is neither root nor a member of "
			 "group %s", (unsigned)k->uid, c->group);
		conn_error(c, k, msg);
	}
}

/* conntrack -E: the connection stays open, the events are written to it
 * as the workers report them (rp_ctl_poll), until the client goes (its
 * end closed: EPOLLHUP) or rampartd stops. */
static void stream_start(struct rp_ctl *c, struct conn *k, int argc, char **argv)
{
	char err[256];
	if (c->n_streams >= CTL_STREAMS_MAX) {
		snprintf(err, sizeof(err), "conntrack -E: %u readers already", CTL_STREAMS_MAX);
		conn_error(c, k, err);
		return;
	}
	struct rp_ctl_events *ev = rp_ctl_events_open(c->env, argc, argv, err, sizeof(err));
	if (ev == NULL) {
		conn_error(c, k, err);
		return;
	}
	free(k->in);
	k->in = NULL;
	k->in_len = k->in_cap = 0;
	k->ev = ev;
	k->state = CS_STREAM;
	c->streams[c->n_streams++] = k;
	/* the client shut its writing side: only its end closing matters
	 * (EPOLLHUP, always reported), and room to write when it is late */
	struct epoll_event e = { .events = 0, .data.u32 = k->slot };
	k->ep_events = 0;
	if (epoll_ctl(c->ep, EPOLL_CTL_MOD, k->fd, &e) < 0)
		conn_close(c, k); /* left readable, it would spin */
}

static void stream_append(struct conn *k, const char *line, size_t len, bool force)
{
	if (k->out_off == k->out_len)
		k->out_off = k->out_len = 0;
	if (!force && k->out_len - k->out_off + len > CTL_STREAM_BUF) {
		k->ev_lost++;
		return;
	}
	if (k->out_len + len > k->out_cap) {
		if (k->out_off > 0) { /* the sent part first */
			memmove(k->out, k->out + k->out_off, k->out_len - k->out_off);
			k->out_len -= k->out_off;
			k->out_off = 0;
		}
		size_t cap = k->out_cap ? k->out_cap : 65536;
		while (cap < k->out_len + len)
			cap *= 2;
		/* no more than the cap and a line: doubling past it would hold
		 * twice what a reader may have unread */
		if (cap > CTL_STREAM_BUF + 65536 && k->out_len + len <= CTL_STREAM_BUF + 65536)
			cap = CTL_STREAM_BUF + 65536;
		if (cap != k->out_cap) {
			char *n = realloc(k->out, cap);
			if (n == NULL) {
				k->ev_lost++;
				return;
			}
			k->out = n;
			k->out_cap = cap;
		}
	}
	memcpy(k->out + k->out_len, line, len);
	k->out_len += len;
}

/* Send what the client will take; watch for room if it did not take all.
 * false: it is gone (closed). */
static bool stream_flush(struct rp_ctl *c, struct conn *k)
{
	while (k->out_off < k->out_len) {
		ssize_t w = send(k->fd, k->out + k->out_off, k->out_len - k->out_off,
				 MSG_NOSIGNAL | MSG_DONTWAIT);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && errno == EAGAIN)
			break;
		if (w <= 0) {
			conn_close(c, k);
			return false;
		}
		k->out_off += (size_t)w;
	}
	uint32_t want = k->out_off < k->out_len ? EPOLLOUT : 0;
	if (want != k->ep_events) {
		struct epoll_event e = { .events = want, .data.u32 = k->slot };
		epoll_ctl(c->ep, EPOLL_CTL_MOD, k->fd, &e);
		k->ep_events = want;
	}
	return true;
}

static struct timespec g_ev_time; /* when this drain read the events */

static void stream_event(void *arg, unsigned worker, const struct ct_table *view, uint32_t now,
	unsigned type)
{
	struct rp_ctl *c = arg;
	char line[1536];
	for (unsigned i = 0; i < c->n_streams; i++) {
		struct conn *k = c->streams[i];
		if (rp_ctl_events_expect(k->ev))
			continue; /* it follows the expectations */
		if (k->out_len - k->out_off >= CTL_STREAM_BUF) {
			k->ev_lost++; /* full: not even formatted (it may not want it: lost is
					 an upper bound, as the kernel's count of a full socket) */
			continue;
		}
		int len = rp_ctl_events_line(k->ev, worker, view, now, type, &g_ev_time, line,
					     sizeof(line));
		if (len > 0)
			stream_append(k, line, (size_t)len, false);
	}
}

static void stream_exp_event(void *arg, const struct ct_exp_ev *e)
{
	struct rp_ctl *c = arg;
	char line[1536];
	for (unsigned i = 0; i < c->n_streams; i++) {
		struct conn *k = c->streams[i];
		if (!rp_ctl_events_expect(k->ev))
			continue; /* it follows the connections */
		if (k->out_len - k->out_off >= CTL_STREAM_BUF) {
			k->ev_lost++;
			continue;
		}
		int len = rp_ctl_exp_events_line(k->ev, e, &g_ev_time, line, sizeof(line));
		if (len > 0)
			stream_append(k, line, (size_t)len, false);
	}
}

/* The workers' events to the readers, then to their sockets. */
static int streams_poll(struct rp_ctl *c)
{
	uint64_t lost = 0;
	clock_gettime(CLOCK_REALTIME, &g_ev_time);
	/* bounded: a flood of connections must not stall the control loop
	 * (its other clients, the punted packets, neighbours): what the
	 * queues cannot hold until the next loop is lost, and counted */
	unsigned n = dp_ct_events_drain(c->env->dp, stream_event, c, CTL_STREAM_DRAIN, &lost);
	uint64_t xlost = 0;
	n += dp_ct_exp_events_drain(c->env->dp, stream_exp_event, c, CTL_STREAM_DRAIN, &xlost);
	for (unsigned i = c->n_streams; i-- > 0;) {
		struct conn *k = c->streams[i];
		char msg[160];
		k->ring_lost += rp_ctl_events_expect(k->ev) ? xlost : lost;
		/* told once there is room again (a reader that does not read
		 * gets no more than its buffer) */
		bool room = k->out_len - k->out_off < CTL_STREAM_BUF;
		if (room && k->ring_lost) {
			int m = snprintf(msg, sizeof(msg), "%%%% warning: %" PRIu64 " events lost: the "
					 "workers' event queues were full\n", k->ring_lost);
			stream_append(k, msg, (size_t)m, true);
			k->ring_lost = 0;
		}
		if (room && k->ev_lost) {
			int m = snprintf(msg, sizeof(msg), "%%%% warning: %" PRIu64 " events lost: not "
					 "read in time\n", k->ev_lost);
			stream_append(k, msg, (size_t)m, true);
			k->ev_lost = 0;
		}
		if (k->out_off < k->out_len && k->ep_events == 0)
			stream_flush(c, k); /* may close it (gone) */
	}
	return (int)n;
}

/* Run a complete request. */
static void conn_exec(struct rp_ctl *c, struct conn *k, size_t head, size_t body_off,
	size_t body_len)
{
	char err[160];
	char **argv = malloc((CTL_ARGS_MAX + 1) * sizeof(*argv));
	if (argv == NULL) {
		conn_close(c, k);
		return;
	}
	k->in[head] = '\0';
	int argc = rp_ctl_decode(k->in, argv, CTL_ARGS_MAX, err, sizeof(err));
	if (argc <= 0) {
		free(argv);
		conn_error(c, k, argc == 0 ? "empty request" : err);
		return;
	}
	if (k->role != ROLE_ADMIN && !rp_ctl_readonly(argc, argv)) {
		char msg[200];
		snprintf(msg, sizeof(msg), "permission denied: '%s' changes state; uid %u may only "
			 "read (members of group %s may change)", argv[0], (unsigned)k->uid, c->group);
		refuse_log(c, "control socket: uid %u (pid %d) refused: %s", k->uid, k->pid,
			   "a change by a read-only client");
		free(argv);
		conn_error(c, k, msg);
		return;
	}
	RP_DEBUG("ctl", "request from uid %u: %s%s", (unsigned)k->uid, argv[0],
		 argc > 1 ? " ..." : "");
	if (rp_ctl_is_events(argc, argv)) {
		stream_start(c, k, argc, argv);
		free(argv);
		return;
	}
	if (rp_ctl_streams(argc, argv)) {
		/* long listings: written as they are produced, blocking with a timeout */
		int fl = fcntl(k->fd, F_GETFL);
		fcntl(k->fd, F_SETFL, fl & ~O_NONBLOCK);
		struct timeval wt = { .tv_sec = 5 };
		setsockopt(k->fd, SOL_SOCKET, SO_SNDTIMEO, &wt, sizeof(wt));
		FILE *out = fdopen(dup(k->fd), "w");
		if (out != NULL) {
			rp_ctl_exec(c->env, argc, argv, NULL, 0, out);
			fclose(out);
		}
		free(argv);
		conn_close(c, k);
		return;
	}
	char *text = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&text, &len);
	if (out == NULL) {
		free(argv);
		conn_close(c, k);
		return;
	}
	rp_ctl_exec(c->env, argc, argv, body_len ? k->in + body_off : NULL, body_len, out);
	free(argv);
	if (fclose(out) != 0) {
		free(text);
		conn_close(c, k);
		return;
	}
	conn_answer(c, k, text, len);
}

static void conn_read(struct rp_ctl *c, struct conn *k)
{
	for (int round = 0; round < 16 && k->state == CS_READ; round++) {
		if (k->in_cap - k->in_len < 4096) {
			size_t cap = k->in_cap ? k->in_cap * 2 : 8192;
			char *n = realloc(k->in, cap + 1);
			if (n == NULL) {
				conn_close(c, k);
				return;
			}
			k->in = n;
			k->in_cap = cap;
		}
		ssize_t r = read(k->fd, k->in + k->in_len, k->in_cap - k->in_len);
		if (r < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		if (r <= 0) { /* gone, or closed before a whole request */
			if (r == 0 && k->in_len > 0 && memchr(k->in, '\n', k->in_len) == NULL) {
				conn_error(c, k, "no request line (end it with a newline)");
				return;
			}
			conn_close(c, k);
			return;
		}
		k->in_len += (size_t)r;
		size_t head, off, blen;
		char err[160];
		int f = rp_ctl_frame(k->in, k->in_len, &head, &off, &blen, err, sizeof(err));
		if (f < 0) {
			conn_error(c, k, err);
			return;
		}
		if (f > 0) {
			conn_exec(c, k, head, off, blen);
			return;
		}
		/* header seen, body coming: the deadline grows with its size */
		if (blen > 0 && k->in_cap < off + blen) {
			char *n = realloc(k->in, off + blen + 1);
			if (n == NULL) {
				conn_error(c, k, "out of memory for the request body");
				return;
			}
			k->in = n;
			k->in_cap = off + blen;
			k->deadline = now_ms() + CTL_HEAD_MS + CTL_BODY_MS * (1 + blen / (1u << 20));
		}
	}
}

static void conn_write(struct rp_ctl *c, struct conn *k)
{
	while (k->out_off < k->out_len) {
		ssize_t w = send(k->fd, k->out + k->out_off, k->out_len - k->out_off, MSG_NOSIGNAL);
		if (w < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		if (w <= 0) {
			conn_close(c, k);
			return;
		}
		k->out_off += (size_t)w;
		k->deadline = now_ms() + CTL_IDLE_MS;
	}
	conn_close(c, k);
}

int rp_ctl_poll(struct rp_ctl *c)
{
	if (c == NULL)
		return 0;
	struct epoll_event ev[64];
	int n = epoll_wait(c->ep, ev, 64, 0);
	int done = 0;
	for (int i = 0; i < n; i++) {
		uint32_t s = ev[i].data.u32;
		if (s == CTL_CONN_MAX) {
			for (int a = 0; a < 64; a++) {
				int fd = accept4(c->fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
				if (fd < 0)
					break;
				accept_one(c, fd);
				done++;
			}
			continue;
		}
		struct conn *k = c->conns[s];
		if (k == NULL)
			continue;
		done++;
		if (k->state == CS_STREAM) {
			if (ev[i].events & (EPOLLHUP | EPOLLERR))
				conn_close(c, k); /* the reader is gone */
			else
				stream_flush(c, k);
		} else if (k->state == CS_READ)
			conn_read(c, k);
		else
			conn_write(c, k);
	}
	if (c->n_streams)
		done += streams_poll(c);
	/* deadlines, checked a few times a second */
	static uint64_t last;
	uint64_t t = now_ms();
	if (c->n_conns && t - last >= 200) {
		last = t;
		for (unsigned i = 0; i < CTL_CONN_MAX; i++) {
			struct conn *k = c->conns[i];
			if (k == NULL || k->state == CS_STREAM || t < k->deadline)
				continue;
			if (k->state == CS_READ)
				conn_error(c, k, "request not received in time");
			else
				conn_close(c, k); /* not reading its answer */
		}
	}
	return done;
}
