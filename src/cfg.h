/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * cfg: the daemon configuration (rampart.yaml), loaded and validated on
 * the control thread into a plain struct. A load either fully succeeds or
 * leaves nothing behind; every error names file, line and column.
 */
#ifndef RP_CFG_H
#define RP_CFG_H

/* neighbours.max's bound (a next hop index fits 24 bits: dataplane) */
#define CFG_NEIGH_MAX 500000u

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ct.h"

#define CFG_MAX_PORTS 16
#define CFG_MAX_ADDRS 8
#define CFG_MAX_ROUTES 4096
#define CFG_MAX_WORKERS 64
#define CFG_MAX_EAL_ARGS 64
#define CFG_NAME_MAX 16 /* port names, like IFNAMSIZ */
#define CFG_DEVICE_MAX 256
#define CFG_ERR_MAX 512

enum cfg_mode { CFG_MODE_ROUTER, CFG_MODE_BRIDGE };
enum cfg_rs_format { CFG_RS_AUTO, CFG_RS_YAML, CFG_RS_IPTABLES };
#define CFG_PATH_MAX 512

struct cfg_prefix {
	uint8_t family; /* 4 or 6 */
	uint8_t plen;
	uint8_t addr[16]; /* network byte order; IPv4 in the first 4 bytes */
};

struct cfg_port {
	char name[CFG_NAME_MAX];
	char device[CFG_DEVICE_MAX]; /* PCI address or vdev string */
	bool is_pci;
	uint16_t mtu;
	uint16_t rx_queues, tx_queues; /* 0: one per worker */
	uint16_t rx_desc, tx_desc;
	bool rx_csum_trust; /* rx_checksum: trust (TCP/UDP never checked in software) */
	unsigned n_addrs;
	struct cfg_prefix addrs[CFG_MAX_ADDRS];
	int line, col;
};

struct cfg_route {
	struct cfg_prefix dst;
	bool has_via;
	uint8_t via[16];
	int port; /* index into ports, -1: derived from the gateway's subnet */
	int line, col;
};

/* conntrack.mode: auto tracks when the ruleset uses connection state */
enum cfg_ct_mode { CFG_CT_AUTO, CFG_CT_ON, CFG_CT_OFF };

struct cfg {
	char path[512];
	unsigned n_eal;
	char *eal_args[CFG_MAX_EAL_ARGS]; /* owned */
	enum cfg_mode mode;
	unsigned n_workers;
	unsigned worker_lcores[CFG_MAX_WORKERS];
	unsigned main_lcore;
	unsigned idle_sleep_us;
	unsigned n_ports;
	struct cfg_port ports[CFG_MAX_PORTS];
	unsigned n_pairs;
	uint8_t pairs[CFG_MAX_PORTS / 2][2];
	unsigned n_routes;
	struct cfg_route *routes; /* owned */
	uint32_t icmp_ratelimit; /* messages per second per worker, 0 = unlimited */
	uint32_t icmp_burst;
	uint32_t neigh_max;         /* at most CFG_NEIGH_MAX */
	uint32_t neigh_queue;   /* packets held awaiting resolution, total */
	uint32_t neigh_timeout_s; /* reachable lifetime before re-probing */
	uint32_t mbufs;         /* 0: sized automatically */
	int log_level;
	bool log_stderr, log_syslog;
	/* log.packets: the LOG target's lines; unset: the daemon log */
	bool pktlog_set;
	int pktlog_facility;          /* -1: not to syslog */
	char pktlog_file[CFG_PATH_MAX];
	/* log.nflog: the NFLOG target's captures, "" if none */
	char nflog_dir[CFG_PATH_MAX];
	uint32_t nflog_max_mb;
	/* ruleset files (resolved against the config file's directory), "" if none */
	char ruleset[CFG_PATH_MAX];   /* YAML or iptables-save text */
	char ruleset6[CFG_PATH_MAX];  /* ip6tables-save text */
	char ipsets[CFG_PATH_MAX];    /* ipset save text */
	uint8_t ruleset_format;       /* enum cfg_rs_format */
	int ruleset_line, ruleset_col;
	/* control socket (rampartctl) */
	char ctl_socket[CFG_PATH_MAX];
	/* groups allowed to change state / to read; -1: none (root only) */
	long ctl_gid, ctl_ro_gid;
	char ctl_group[64], ctl_ro_group[64];
	/* Prometheus endpoint: "address:port" ("[v6]:port"), "" if none */
	char metrics_listen[64];
	/* nat.rss-steering: choose source ports whose replies the NIC's RSS
	 * gives the owning worker, where the NIC's hash is known */
	bool nat_rss_steer;
	/* connection tracking; ct.max and ct.max6 are for the whole box */
	uint8_t ct_mode;              /* enum cfg_ct_mode */
	struct ct_params ct;
	/* conntrack.timeout-policies: CT --timeout's names (policy i + 1's
	 * timeouts are ct.tpol[i]); fams: 4 and/or 6 as bits 1 << 0, 1 << 1 */
	struct cfg_tpol {
		char name[32];
		uint8_t fams, proto;
	} tpol[CT_TPOL_MAX];
};

/* Load and validate path into *c (zeroed first). 0 on success; -1 with a
 * "file:line:col: message" in err. On failure *c holds nothing to free. */
int cfg_load(const char *path, struct cfg *c, char *err, size_t errlen);
/* Same, from a memory buffer (tests, fuzzing); name is used in messages. */
int cfg_load_buf(const char *buf, size_t len, const char *name, struct cfg *c, char *err,
		 size_t errlen);
void cfg_free(struct cfg *c);
/* Parse "ADDRESS:PORT" ("[IPv6]:PORT") into *ss (may be NULL: check only).
 * 0 on success, -1 if it is not one. */
struct sockaddr_storage;
int cfg_parse_listen(const char *s, struct sockaddr_storage *ss);

/* Helpers shared with other loaders. */
int cfg_parse_prefix(const char *s, struct cfg_prefix *p, bool allow_host_bits);
int cfg_parse_addr(const char *s, uint8_t *family, uint8_t addr[16]);
int cfg_port_index(const struct cfg *c, const char *name);
void cfg_format_prefix(const struct cfg_prefix *p, char *buf, size_t len);

#endif
