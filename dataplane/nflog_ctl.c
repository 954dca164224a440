/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * nflog_ctl: the NFLOG target's packets as pcap, one capture per group
 * (control thread; the records come through the same per-worker rings as
 * LOG's, so a worker never waits).
 *
 * Group g goes to DIR/nflog-g.pcap (log.nflog.dir), link type NFLOG (239):
 * what `tcpdump -i nflog:g -w` writes from the kernel -- a 4-byte header
 * (address family, version 0, the group in network order) and netlink-style
 * attributes (length and type in host order, values in network order,
 * each padded to 4 bytes): the packet header (ethertype, hook), the
 * prefix, the in and out ports (as interface indexes: the port's position
 * in the config, from 1), the mark when it is not 0, and the payload (the
 * packet the rules saw, from its IP header). A file grows to
 * log.nflog.max-size, then is renamed to .1 and started again. If the path
 * is a FIFO (mkfifo it first), the capture is streamed into it while a
 * reader is there (`tcpdump -r DIR/nflog-5.pcap`, `wireshark -k -i ...`);
 * without a reader, packets are counted as lost. Packets are whole (as
 * the kernel's NFLOG copies them), or --nflog-size bytes of them: the
 * worker copies them into an mbuf that comes with the record (the
 * record's own DP_LOG_SNAP bytes if the pool is short); the timestamp is
 * when the worker logged the packet.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <rte_byteorder.h>
#include <rte_cycles.h>

#include "dp_priv.h"
#include "log.h"

#define LINKTYPE_NFLOG 239
/* nfnetlink_log's attribute types (linux/netfilter/nfnetlink_log.h) */
#define NFULA_PACKET_HDR 1
#define NFULA_MARK 2
#define NFULA_IFINDEX_INDEV 4
#define NFULA_IFINDEX_OUTDEV 5
#define NFULA_PAYLOAD 9
#define NFULA_PREFIX 10
#define NFLOG_HDR_MAX 128 /* the header and every attribute before the payload's data */

struct dp_nflog {
	uint16_t group;
	int fd;
	bool fifo;
	uint64_t bytes;
	uint64_t next_try; /* a FIFO without reader: when to try again (seconds) */
	struct dp_nflog *next;
};

static void path_of(const struct dp_ctx *dp, uint16_t group, char *buf, size_t n, const char *sfx)
{
	snprintf(buf, n, "%s/nflog-%u.pcap%s", dp->nflog_dir, group, sfx);
}

static void wr(int fd, const void *p, size_t n, bool *ok)
{
	if (*ok && write(fd, p, n) != (ssize_t)n)
		*ok = false;
}

static bool open_file(struct dp_ctx *dp, struct dp_nflog *f)
{
	char path[CFG_PATH_MAX + 32];
	path_of(dp, f->group, path, sizeof(path), "");
	struct stat st;
	f->fifo = stat(path, &st) == 0 && S_ISFIFO(st.st_mode);
	f->fd = open(path, O_WRONLY | O_CLOEXEC | (f->fifo ? O_NONBLOCK : O_CREAT | O_TRUNC), 0640);
	if (f->fd < 0) {
		if (!f->fifo)
			RP_WARN("nflog", "cannot open %s: %s", path, strerror(errno));
		return false;
	}
	/* the pcap file header */
	const struct {
		uint32_t magic;
		uint16_t major, minor;
		int32_t zone;
		uint32_t sigfigs, snaplen, linktype;
	} h = {0xa1b2c3d4u, 2, 4, 0, 0, 65535, LINKTYPE_NFLOG};
	bool ok = true;
	wr(f->fd, &h, sizeof(h), &ok);
	f->bytes = sizeof(h);
	if (!ok) {
		close(f->fd);
		f->fd = -1;
	}
	return ok;
}

/* One attribute at b + *at: 4-byte header (length, type: host order), the
 * value, zeros to a multiple of 4. */
static void tlv(uint8_t *b, uint32_t *at, uint16_t type, const void *v, uint16_t len)
{
	uint16_t l = (uint16_t)(4 + len);
	memcpy(b + *at, &l, 2);
	memcpy(b + *at + 2, &type, 2);
	if (len)
		memcpy(b + *at + 4, v, len);
	uint32_t padded = (l + 3u) & ~3u;
	memset(b + *at + l, 0, padded - l);
	*at += padded;
}

/* The NFLOG header and the attributes before the payload's data (its
 * attribute header included, for cap bytes of data); returns their size. */
static uint32_t nflog_head(uint8_t *b, const struct rules_t_nflog *n, const struct dp_logrec *rec,
			   const struct dp_ctx *dp, uint32_t cap)
{
	bool v6 = rec->fam == RULES_F_V6;
	b[0] = v6 ? 10 : 2; /* AF_INET6, AF_INET */
	b[1] = 0;           /* NFULNL version */
	b[2] = (uint8_t)(n->group >> 8);
	b[3] = (uint8_t)n->group;
	uint32_t at = 4;
	uint8_t ph[4] = { v6 ? 0x86 : 0x08, v6 ? 0xdd : 0x00, rec->hook, 0 };
	tlv(b, &at, NFULA_PACKET_HDR, ph, 4); /* struct nfulnl_msg_packet_hdr, its pad included */
	if (n->prefix != NULL && n->prefix[0] != '\0') {
		size_t pl = strnlen(n->prefix, 64); /* --nflog-prefix: at most 64 */
		char pfx[65];
		memcpy(pfx, n->prefix, pl);
		pfx[pl] = '\0';
		tlv(b, &at, NFULA_PREFIX, pfx, (uint16_t)(pl + 1));
	}
	if (rec->in_port < dp->n_ports) {
		uint32_t i = rte_cpu_to_be_32((uint32_t)rec->in_port + 1);
		tlv(b, &at, NFULA_IFINDEX_INDEV, &i, 4);
	}
	if (rec->out_port < dp->n_ports) {
		uint32_t o = rte_cpu_to_be_32((uint32_t)rec->out_port + 1);
		tlv(b, &at, NFULA_IFINDEX_OUTDEV, &o, 4);
	}
	if (rec->mark != 0) {
		uint32_t mk = rte_cpu_to_be_32(rec->mark);
		tlv(b, &at, NFULA_MARK, &mk, 4);
	}
	/* the payload's attribute header; its data follows (padded) */
	uint16_t l = (uint16_t)(4 + cap), type = NFULA_PAYLOAD;
	memcpy(b + at, &l, 2);
	memcpy(b + at + 2, &type, 2);
	return at + 4;
}

static struct dp_nflog *group_file(struct dp_ctx *dp, uint16_t group)
{
	for (struct dp_nflog *f = dp->nflog; f; f = f->next)
		if (f->group == group)
			return f;
	struct dp_nflog *f = calloc(1, sizeof(*f));
	if (f == NULL)
		return NULL;
	f->group = group;
	f->fd = -1;
	f->next = dp->nflog;
	dp->nflog = f;
	return f;
}

void dp_nflog_write(struct dp_ctx *dp, const struct rules_t_nflog *n, const struct dp_logrec *rec)
{
	if (dp->nflog_dir[0] == '\0') {
		dp->nflog_lost++;
		return;
	}
	struct dp_nflog *f = group_file(dp, n->group);
	if (f == NULL) {
		dp->nflog_lost++;
		return;
	}
	struct timespec ts, now;
	dp_tsc_to_real(dp, rec->tsc, &ts); /* the packet's time, not the write's */
	clock_gettime(CLOCK_REALTIME, &now);
	if (f->fd < 0) {
		if ((uint64_t)now.tv_sec < f->next_try || !open_file(dp, f)) {
			f->next_try = (uint64_t)now.tv_sec + 1;
			dp->nflog_lost++;
			return;
		}
	}
	/* the datagram's length from its header, the captured part from the record */
	uint32_t len = rec->caplen;
	if (rec->caplen >= 4 && (rec->data[0] >> 4) == 4)
		len = (uint32_t)(rec->data[2] << 8 | rec->data[3]);
	else if (rec->caplen >= 6 && (rec->data[0] >> 4) == 6)
		len = 40u + (uint32_t)(rec->data[4] << 8 | rec->data[5]);
	uint32_t cap = rec->caplen;
	const uint8_t *data = rec->data;
	uint8_t big[DP_NFLOG_MAX];
	if (rec->copy != NULL) {
		/* the worker's copy: from the IP header, as long as it wanted */
		uint32_t l = rte_pktmbuf_pkt_len(rec->copy);
		if (l > sizeof(big))
			l = sizeof(big);
		const uint8_t *p = rte_pktmbuf_read(rec->copy, 0, l, big);
		if (p != NULL) {
			if (p != big)
				memcpy(big, p, l);
			data = big;
			cap = l;
		}
	}
	if (n->size && n->size < cap)
		cap = n->size;
	/* into a FIFO, a write of at most PIPE_BUF bytes goes whole or not at
	 * all (below); longer packets are cut there */
	if (f->fifo && cap > PIPE_BUF - 16 - NFLOG_HDR_MAX)
		cap = PIPE_BUF - 16 - NFLOG_HDR_MAX;
	if (len < cap)
		len = cap;
	/* one write per packet: into a FIFO (non-blocking), a write of less
	 * than PIPE_BUF goes whole or not at all, so a slow reader loses
	 * packets, never the stream's framing, and never holds us up */
	uint8_t buf[16 + NFLOG_HDR_MAX + DP_NFLOG_MAX + 4];
	uint32_t head = nflog_head(buf + 16, n, rec, dp, cap);
	memcpy(buf + 16 + head, data, cap);
	uint32_t pad = ((cap + 3u) & ~3u) - cap;
	memset(buf + 16 + head + cap, 0, pad);
	/* captured: everything written; original: as if the whole datagram
	 * had been copied */
	uint32_t incl = head + cap + pad, orig = head + len + (((len + 3u) & ~3u) - len);
	uint32_t rec4[4] = {(uint32_t)ts.tv_sec, (uint32_t)(ts.tv_nsec / 1000), incl, orig};
	memcpy(buf, rec4, sizeof(rec4));
	ssize_t w = write(f->fd, buf, sizeof(rec4) + incl);
	if (w < 0 && f->fifo && errno == EAGAIN) {
		dp->nflog_lost++; /* the reader is behind */
		return;
	}
	if (w != (ssize_t)(sizeof(rec4) + incl)) { /* the reader went away, or the disk is full */
		close(f->fd);
		f->fd = -1;
		f->next_try = (uint64_t)now.tv_sec + 1;
		dp->nflog_lost++;
		return;
	}
	dp->nflog_written++;
	f->bytes += sizeof(rec4) + incl;
	if (!f->fifo && f->bytes >= dp->nflog_max) {
		/* rotate: the full capture becomes .1 */
		char a[CFG_PATH_MAX + 32], b[CFG_PATH_MAX + 32];
		path_of(dp, f->group, a, sizeof(a), "");
		path_of(dp, f->group, b, sizeof(b), ".1");
		close(f->fd);
		f->fd = -1;
		if (rename(a, b) != 0)
			RP_WARN("nflog", "cannot rotate %s: %s", a, strerror(errno));
	}
}

void dp_nflog_close(struct dp_ctx *dp)
{
	struct dp_nflog *f = dp->nflog;
	while (f) {
		struct dp_nflog *next = f->next;
		if (f->fd >= 0)
			close(f->fd);
		free(f);
		f = next;
	}
	dp->nflog = NULL;
}

void dp_tsc_to_real(const struct dp_ctx *dp, uint64_t tsc, struct timespec *ts)
{
	uint64_t hz = rte_get_tsc_hz();
	int64_t d = (int64_t)(tsc - dp->tsc0);
	int64_t ns = hz ? (int64_t)((__int128)d * 1000000000 / (int64_t)hz) : 0;
	int64_t t = (int64_t)dp->real0.tv_sec * 1000000000 + dp->real0.tv_nsec + ns;
	ts->tv_sec = (time_t)(t / 1000000000);
	ts->tv_nsec = (long)(t % 1000000000);
}
