/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_cfg: cfg_load_buf() on the demo configuration, a configuration that
 * sets every key, and a table of broken ones, each with the exact
 * "name:line:col:" its error must start with. A failed load must leave the
 * struct all zero (nothing to free); the leak checker of a sanitizer build
 * proves nothing was left allocated behind it either.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <arpa/inet.h>
#include <sys/socket.h>

#include "cfg.h"
#include "log.h"

/* A copy of conf/demo/rampart.yaml. */
static const char demo_yaml[] =
	"# Rampart demo configuration: router mode between two network namespaces.\n"
	"# Topology (created by scripts/topology.sh, see docs/deployment.md):\n"
	"#   rampart-lan: eth0 10.77.1.2/24 fd77:1::2/64 --veth-- rp-lan0 = port lan0\n"
	"#   rampart-wan: eth0 10.77.2.2/24 fd77:2::2/64 --veth-- rp-wan0 = port wan0\n"
	"# On a real box, replace the vdev strings by PCI addresses and drop\n"
	"# --no-huge/--no-pci/--in-memory (see docs/deployment.md).\n"
	"eal: [--no-huge, --no-pci, --no-shconf, --file-prefix=rampart-demo, -m, \"512\", "
	"--log-level=notice]\n"
	"mode: router\n"
	"workers:\n"
	"  main_lcore: 0\n"
	"  lcores: [1]\n"
	"  # The demo shares two cores with its clients: let idle workers nap.\n"
	"  # Production boxes leave this at 0 (pure polling).\n"
	"  idle_sleep_us: 100\n"
	"ports:\n"
	"  - name: lan0\n"
	"    device: net_af_packet0,iface=rp-lan0,qpairs=1\n"
	"    addresses: [10.77.1.1/24, fd77:1::1/64]\n"
	"  - name: wan0\n"
	"    device: net_af_packet1,iface=rp-wan0,qpairs=1\n"
	"    addresses: [10.77.2.1/24, fd77:2::1/64]\n"
	"log:\n"
	"  level: info\n";

static bool all_zero(const struct cfg *c)
{
	static const struct cfg zero;
	return memcmp(c, &zero, sizeof(zero)) == 0;
}

static void check_prefix(const struct cfg_prefix *p, uint8_t family, const char *addr,
			 uint8_t plen)
{
	uint8_t want[16] = { 0 };
	assert_int_equal(inet_pton(family == 4 ? AF_INET : AF_INET6, addr, want), 1);
	assert_int_equal(p->family, family);
	assert_int_equal(p->plen, plen);
	assert_memory_equal(p->addr, want, 16);
}

static void check_demo(const struct cfg *c)
{
	static const char *const eal[] = { "--no-huge", "--no-pci", "--no-shconf",
					   "--file-prefix=rampart-demo", "-m", "512",
					   "--log-level=notice" };
	assert_int_equal(c->n_eal, 7);
	for (unsigned i = 0; i < 7; i++)
		assert_string_equal(c->eal_args[i], eal[i]);
	assert_int_equal(c->mode, CFG_MODE_ROUTER);
	assert_int_equal(c->n_workers, 1);
	assert_int_equal(c->worker_lcores[0], 1);
	assert_int_equal(c->main_lcore, 0);
	assert_int_equal(c->idle_sleep_us, 100);
	assert_int_equal(c->n_ports, 2);

	const struct cfg_port *p = &c->ports[0];
	assert_string_equal(p->name, "lan0");
	assert_string_equal(p->device, "net_af_packet0,iface=rp-lan0,qpairs=1");
	assert_false(p->is_pci);
	assert_int_equal(p->line, 16);
	assert_int_equal(p->col, 5);
	assert_int_equal(p->n_addrs, 2);
	check_prefix(&p->addrs[0], 4, "10.77.1.1", 24);
	check_prefix(&p->addrs[1], 6, "fd77:1::1", 64);
	p = &c->ports[1];
	assert_string_equal(p->name, "wan0");
	assert_string_equal(p->device, "net_af_packet1,iface=rp-wan0,qpairs=1");
	assert_int_equal(p->line, 19);
	check_prefix(&p->addrs[0], 4, "10.77.2.1", 24);
	check_prefix(&p->addrs[1], 6, "fd77:2::1", 64);
	for (unsigned i = 0; i < 2; i++) {
		/* port defaults */
		assert_int_equal(c->ports[i].mtu, 1500);
		assert_int_equal(c->ports[i].rx_queues, 0);
		assert_int_equal(c->ports[i].tx_queues, 0);
		assert_int_equal(c->ports[i].rx_desc, 1024);
		assert_int_equal(c->ports[i].tx_desc, 1024);
	}
	assert_int_equal(c->n_pairs, 0);
	assert_int_equal(c->n_routes, 0);
	/* global defaults */
	assert_int_equal(c->icmp_ratelimit, 1000);
	assert_int_equal(c->icmp_burst, 50);
	assert_int_equal(c->neigh_max, 4096);
	assert_int_equal(c->neigh_queue, 256);
	assert_int_equal(c->neigh_timeout_s, 30);
	assert_int_equal(c->mbufs, 0);
	assert_int_equal(c->log_level, RP_LOG_INFO);
	assert_true(c->log_stderr);
	assert_false(c->log_syslog);
}

static void test_demo(void **state)
{
	(void)state;
	struct cfg c;
	char err[CFG_ERR_MAX] = "";
	int rc = cfg_load_buf(demo_yaml, strlen(demo_yaml), "demo.yaml", &c, err, sizeof(err));
	if (rc != 0)
		fail_msg("%s", err);
	assert_string_equal(c.path, "demo.yaml");
	check_demo(&c);
	cfg_free(&c);
	assert_true(all_zero(&c));

	/* the file itself, through cfg_load(): the demo must keep loading */
	rc = cfg_load(DEMO_CONF, &c, err, sizeof(err));
	if (rc != 0)
		fail_msg("%s", err);
	assert_string_equal(c.path, DEMO_CONF);
	assert_int_equal(c.n_ports, 2);
	assert_string_equal(c.ports[0].name, "lan0");
	assert_string_equal(c.ports[1].name, "wan0");
	cfg_free(&c);

	rc = cfg_load("/nonexistent/rampart.yaml", &c, err, sizeof(err));
	assert_int_equal(rc, -1);
	assert_non_null(strstr(err, "/nonexistent/rampart.yaml: cannot open"));
	assert_true(all_zero(&c));
}

static void test_defaults(void **state)
{
	(void)state;
	static const char y[] = "workers: {lcores: [1]}\n"
				"ports: [{name: p0, device: net_x, addresses: [10.0.0.1/24]}]\n";
	struct cfg c;
	char err[CFG_ERR_MAX];
	int rc = cfg_load_buf(y, strlen(y), "min.yaml", &c, err, sizeof(err));
	if (rc != 0)
		fail_msg("%s", err);
	assert_int_equal(c.n_eal, 0);
	assert_int_equal(c.mode, CFG_MODE_ROUTER);
	assert_int_equal(c.main_lcore, 0);
	assert_int_equal(c.idle_sleep_us, 0);
	assert_int_equal(c.n_workers, 1);
	assert_int_equal(c.ports[0].mtu, 1500);
	assert_int_equal(c.ports[0].rx_desc, 1024);
	assert_int_equal(c.icmp_ratelimit, 1000);
	assert_int_equal(c.icmp_burst, 50);
	assert_int_equal(c.neigh_max, 4096);
	assert_int_equal(c.neigh_queue, 256);
	assert_int_equal(c.neigh_timeout_s, 30);
	assert_int_equal(c.mbufs, 0);
	assert_int_equal(c.log_level, RP_LOG_INFO);
	assert_true(c.log_stderr);
	assert_false(c.log_syslog);
	assert_null(c.routes);
	assert_true(c.nat_rss_steer);
	cfg_free(&c);
}

static void test_linklocal_gateway(void **state)
{
	(void)state;
	static const char y[] = "workers: {lcores: [1]}\n"
				"ports: [{name: p0, device: net_x, addresses: [fd00::1/64]},\n"
				"        {name: p1, device: net_y, addresses: [10.0.0.1/24]}]\n"
				"routes: [{to: \"::/0\", via: \"fe80::1\", port: p1}]\n";
	struct cfg c;
	char err[CFG_ERR_MAX];
	if (cfg_load_buf(y, strlen(y), "ll.yaml", &c, err, sizeof(err)) != 0)
		fail_msg("%s", err);
	assert_int_equal(c.n_routes, 1);
	assert_true(c.routes[0].has_via);
	assert_int_equal(c.routes[0].port, 1); /* the port given, no subnet needed */
	assert_int_equal(c.routes[0].via[0], 0xfe);
	cfg_free(&c);
}

static void test_every_key(void **state)
{
	(void)state;
	static const char y[] =
		"eal: [--no-huge, \"-m\", \"64\"]\n"
		"mode: router\n"
		"workers:\n"
		"  main_lcore: 2\n"
		"  lcores: [3, 4]\n"
		"  idle_sleep_us: 50\n"
		"ports:\n"
		"  - name: lan0\n"
		"    device: \"0000:03:00.0\"\n"
		"    mtu: 9000\n"
		"    rx_queues: 2\n"
		"    tx_queues: 2\n"
		"    rx_desc: 512\n"
		"    tx_desc: 2048\n"
		"    rx_checksum: trust\n"
		"    addresses: [10.0.1.1/24, \"fd00:1::1/64\"]\n"
		"  - name: wan0\n"
		"    device: \"04:00.1\"\n"
		"    addresses: [192.0.2.1/30, 198.51.100.7/32]\n"
		"routes:\n"
		"  - to: 0.0.0.0/0\n"
		"    via: 192.0.2.2\n"
		"  - to: \"::/0\"\n"
		"    via: \"fd00:1::fe\"\n"
		"  - to: 172.16.0.0/12\n"
		"    port: lan0\n"
		"  - to: 10.9.0.0/16\n"
		"    via: 10.0.1.254\n"
		"    port: lan0\n"
		"icmp: {ratelimit: 0, burst: 7}\n"
		"neighbours: {max: 100, queue: 0, reachable_s: 5}\n"
		"mbufs: 1024\n"
		"log: {level: debug, stderr: no, syslog: on}\n"
		"ruleset:\n"
		"  file: rules.v4\n"
		"  ip6tables: /etc/rampart/rules.v6\n"
		"  ipsets: sets/ipsets.save\n"
		"  format: iptables\n"
		"nat: {rss-steering: off}\n"
		"conntrack:\n"
		"  mode: on\n"
		"  max-entries: 100000\n"
		"  max-ipv6: 5000\n"
		"  tcp-loose: no\n"
		"  tcp-be-liberal: yes\n"
		"  tcp-max-retrans: 5\n"
		"  checksum: off\n"
		"  timeouts: {tcp-established: 3600, udp: 20, icmpv6: 7}\n"
		"  timeout-policies:\n"
		"    dns: {protocol: udp, unreplied: 5, replied: 9}\n"
		"    slow: {protocol: tcp, family: ipv6, close_wait: 9, time-wait: 7}\n"
		"    esp: {protocol: generic, timeout: 100}\n"
		"control: {socket: run/ctl.sock}\n";
	struct cfg c;
	char err[CFG_ERR_MAX];
	int rc = cfg_load_buf(y, sizeof(y) - 1, "/etc/rampart/all.yaml", &c, err, sizeof(err));
	if (rc != 0)
		fail_msg("%s", err);
	/* relative paths are resolved against the config file's directory */
	assert_string_equal(c.ruleset, "/etc/rampart/rules.v4");
	assert_string_equal(c.ruleset6, "/etc/rampart/rules.v6");
	assert_string_equal(c.ipsets, "/etc/rampart/sets/ipsets.save");
	assert_int_equal(c.ruleset_format, CFG_RS_IPTABLES);
	assert_int_equal(c.ct_mode, CFG_CT_ON);
	assert_false(c.nat_rss_steer);
	assert_int_equal(c.ct.max, 100000);
	assert_int_equal(c.ct.max6, 5000);
	assert_int_equal(c.ct.tcp_loose, 0);
	assert_int_equal(c.ct.tcp_be_liberal, 1);
	assert_int_equal(c.ct.tcp_max_retrans, 5);
	assert_int_equal(c.ct.checksum, 0);
	assert_int_equal(c.ct.to[CT_TO_TCP_ESTABLISHED], 3600);
	assert_int_equal(c.ct.to[CT_TO_UDP], 20);
	assert_int_equal(c.ct.to[CT_TO_ICMPV6], 7);
	assert_int_equal(c.ct.to[CT_TO_TCP_TIME_WAIT], 120); /* the kernel's default stays */
	assert_int_equal(c.ct.n_tpol, 3);
	assert_string_equal(c.tpol[2].name, "esp");
	assert_int_equal(c.tpol[2].proto, CT_TPOL_GENERIC);
	assert_int_equal(c.tpol[2].fams, 3);
	assert_int_equal(c.ct.tpol[2][CT_TO_GENERIC], 100);
	assert_string_equal(c.tpol[0].name, "dns");
	assert_int_equal(c.tpol[0].proto, 17);
	assert_int_equal(c.tpol[0].fams, 3);
	assert_int_equal(c.ct.tpol[0][CT_TO_UDP], 5);
	assert_int_equal(c.ct.tpol[0][CT_TO_UDP_STREAM], 9);
	assert_int_equal(c.ct.tpol[0][CT_TO_TCP_ESTABLISHED], 3600); /* the table's, as it loads */
	assert_string_equal(c.tpol[1].name, "slow");
	assert_int_equal(c.tpol[1].proto, 6);
	assert_int_equal(c.tpol[1].fams, 2);
	assert_int_equal(c.ct.tpol[1][CT_TO_TCP_CLOSE_WAIT], 9);
	assert_int_equal(c.ct.tpol[1][CT_TO_TCP_TIME_WAIT], 7);
	assert_int_equal(c.ct.tpol[1][CT_TO_TCP_SYN_SENT], 120);
	assert_string_equal(c.ctl_socket, "/etc/rampart/run/ctl.sock");
	assert_int_equal(c.n_eal, 3);
	assert_string_equal(c.eal_args[2], "64");
	assert_int_equal(c.main_lcore, 2);
	assert_int_equal(c.n_workers, 2);
	assert_int_equal(c.worker_lcores[0], 3);
	assert_int_equal(c.worker_lcores[1], 4);
	assert_int_equal(c.idle_sleep_us, 50);
	assert_true(c.ports[0].is_pci);
	assert_true(c.ports[1].is_pci);
	assert_int_equal(c.ports[0].mtu, 9000);
	assert_int_equal(c.ports[0].rx_queues, 2);
	assert_int_equal(c.ports[0].tx_queues, 2);
	assert_int_equal(c.ports[0].rx_desc, 512);
	assert_int_equal(c.ports[0].tx_desc, 2048);
	assert_true(c.ports[0].rx_csum_trust);
	assert_false(c.ports[1].rx_csum_trust);
	check_prefix(&c.ports[1].addrs[0], 4, "192.0.2.1", 30);
	check_prefix(&c.ports[1].addrs[1], 4, "198.51.100.7", 32);

	assert_int_equal(c.n_routes, 4);
	check_prefix(&c.routes[0].dst, 4, "0.0.0.0", 0);
	assert_true(c.routes[0].has_via);
	assert_int_equal(c.routes[0].port, 1); /* derived from the gateway's subnet */
	assert_int_equal(c.routes[0].line, 21);
	assert_int_equal(c.routes[0].col, 5);
	check_prefix(&c.routes[1].dst, 6, "::", 0);
	uint8_t gw6[16];
	inet_pton(AF_INET6, "fd00:1::fe", gw6);
	assert_memory_equal(c.routes[1].via, gw6, 16);
	assert_int_equal(c.routes[1].port, 0);
	assert_false(c.routes[2].has_via);
	assert_int_equal(c.routes[2].port, 0);
	assert_true(c.routes[3].has_via);
	assert_int_equal(c.routes[3].port, 0);

	assert_int_equal(c.icmp_ratelimit, 0);
	assert_int_equal(c.icmp_burst, 7);
	assert_int_equal(c.neigh_max, 100);
	assert_int_equal(c.neigh_queue, 0);
	assert_int_equal(c.neigh_timeout_s, 5);
	assert_int_equal(c.mbufs, 1024);
	assert_int_equal(c.log_level, RP_LOG_DEBUG);
	assert_false(c.log_stderr);
	assert_true(c.log_syslog);
	cfg_free(&c);
	assert_true(all_zero(&c));

	/* bridge mode */
	static const char b[] = "mode: bridge\n"
				"workers: {lcores: [1]}\n"
				"ports:\n"
				"  - {name: a, device: net_ring_a}\n"
				"  - {name: b, device: net_ring_b}\n"
				"  - {name: c, device: net_ring_c}\n"
				"  - {name: d, device: net_ring_d}\n"
				"bridge: [[a, c], [d, b]]\n";
	rc = cfg_load_buf(b, sizeof(b) - 1, "br.yaml", &c, err, sizeof(err));
	if (rc != 0)
		fail_msg("%s", err);
	assert_int_equal(c.mode, CFG_MODE_BRIDGE);
	assert_int_equal(c.n_pairs, 2);
	assert_int_equal(c.pairs[0][0], 0);
	assert_int_equal(c.pairs[0][1], 2);
	assert_int_equal(c.pairs[1][0], 3);
	assert_int_equal(c.pairs[1][1], 1);
	assert_int_equal(cfg_port_index(&c, "d"), 3);
	assert_int_equal(cfg_port_index(&c, "e"), -1);
	cfg_free(&c);
}

/* ---- broken configurations ------------------------------------------ */

#define WORKERS "workers:\n  main_lcore: 0\n  lcores: [1]\n" /* lines 1-3 */
#define PORTS                                                                    \
	"ports:\n"                                                               \
	"  - name: lan0\n"                                                       \
	"    device: net_ring_a\n"                                               \
	"    addresses: [10.0.1.1/24, \"fd00:1::1/64\"]\n"                        \
	"  - name: wan0\n"                                                       \
	"    device: net_ring_b\n"                                               \
	"    addresses: [10.0.2.1/24]\n" /* lines 4-10 */
#define PORT1(extra) "ports:\n  - name: lan0\n    device: net_ring_a\n" extra /* 4-6 */
#define BR_PORTS                                                                 \
	"ports:\n  - name: lan0\n    device: net_ring_a\n  - name: wan0\n    device: net_ring_b\n"

struct bad {
	const char *what;
	const char *yaml;
	const char *where; /* "t.yaml:line:col:" */
	const char *msg;   /* substring of the message */
};

static const struct bad bad_cfgs[] = {
	{ "unknown key", "colour: blue\n" WORKERS PORTS, "t.yaml:1:1:",
	  "unknown key 'colour' in the configuration (expected one of: eal, mode," },
	{ "unknown key in a port", WORKERS PORT1("    speed: 10G\n"), "t.yaml:7:5:",
	  "unknown key 'speed' in a port" },
	{ "bad rx_checksum", WORKERS PORT1("    rx_checksum: maybe\n"), "t.yaml:7:18:",
	  "rx_checksum: 'auto' or 'trust', not 'maybe'" },
	{ "unknown key in workers", "workers:\n  lcores: [1]\n  threads: 4\n" PORTS,
	  "t.yaml:3:3:",
	  "unknown key 'threads' in workers (expected one of: lcores, main_lcore, idle_sleep_us)" },
	{ "bad mode", "mode: switch\n" WORKERS PORTS, "t.yaml:1:7:",
	  "mode must be 'router' or 'bridge', not 'switch'" },
	{ "missing workers", "eal: [a, b]\n" PORTS, "t.yaml:1:1:", "'workers' is required" },
	{ "missing lcores", "workers: {main_lcore: 0}\n" PORTS, "t.yaml:1:10:",
	  "'lcores' (the list of worker lcore ids) is required" },
	{ "missing ports", "eal: [a]\n" WORKERS, "t.yaml:1:1:", "'ports' is required" },
	{ "empty document", "", "t.yaml:1:1:", "'workers' is required" },
	{ "not a mapping", "- a\n- b\n", "t.yaml:1:1:",
	  "the configuration must be a mapping, not a list" },
	{ "duplicate port name",
	  WORKERS PORT1("    addresses: [10.0.1.1/24]\n  - name: lan0\n    device: net_ring_b\n"),
	  "t.yaml:8:11:", "port 'lan0' defined twice" },
	{ "duplicate device",
	  WORKERS PORT1("    addresses: [10.0.1.1/24]\n  - name: wan0\n"
			"    device: net_ring_a,x=1\n"),
	  "t.yaml:9:13:", "device 'net_ring_a' already used by port lan0" },
	{ "device neither PCI nor vdev", WORKERS "ports:\n  - name: lan0\n    device: eth0\n",
	  "t.yaml:6:13:", "port device 'eth0' is neither a PCI address" },
	{ "port name too long", WORKERS "ports:\n  - name: abcdefghijklmnop\n    device: net_a\n",
	  "t.yaml:5:11:", "port name must be 1 to 15 characters" },
	{ "port name characters", WORKERS "ports:\n  - name: \"lan 0\"\n    device: net_a\n",
	  "t.yaml:5:11:", "port name 'lan 0': only letters, digits" },
	{ "duplicate YAML key", "workers:\n  main_lcore: 0\n  main_lcore: 2\n  lcores: [1]\n" PORTS,
	  "t.yaml:3:3:", "duplicate key 'main_lcore' (first at line 2)" },
	{ "bad address", WORKERS PORT1("    addresses: [10.0.1.300/24]\n"), "t.yaml:7:17:",
	  "'10.0.1.300/24' is not an address with a prefix length" },
	{ "address without prefix length", WORKERS PORT1("    addresses: [10.0.1.1]\n"),
	  "t.yaml:7:17:", "address '10.0.1.1' needs a prefix length" },
	{ "address /31", WORKERS PORT1("    addresses: [10.0.1.1/31]\n"), "t.yaml:7:17:",
	  "address '10.0.1.1/31': unusable prefix length" },
	{ "multicast address", WORKERS PORT1("    addresses: [10.0.1.1/24, 224.0.0.1/4]\n"),
	  "t.yaml:7:30:", "address '224.0.0.1/4' is not a unicast host address" },
	{ "IPv6 loopback address", WORKERS PORT1("    addresses: [\"::1/64\"]\n"),
	  "t.yaml:7:17:", "address '::1/64' is not a unicast host address" },
	{ "route prefix with host bits",
	  "eal: [x]\n" WORKERS PORTS "routes:\n  - to: 192.168.1.0/16\n    via: 10.0.2.254\n",
	  "t.yaml:13:9:", "route destination '192.168.1.0/16' has host bits set" },
	{ "route prefix not a prefix",
	  WORKERS PORTS "routes:\n  - to: 10.5.0.0/33\n    port: lan0\n",
	  "t.yaml:12:9:", "'10.5.0.0/33' is not a prefix" },
	{ "gateway on no connected subnet",
	  WORKERS PORTS "routes:\n  - to: 10.5.0.0/16\n    via: 10.0.9.1\n", "t.yaml:13:10:",
	  "gateway 10.0.9.1 is on no connected subnet" },
	{ "gateway not on the given port",
	  WORKERS PORTS "routes:\n  - to: 10.5.0.0/16\n    via: 10.0.1.254\n    port: wan0\n",
	  "t.yaml:13:10:", "gateway 10.0.1.254 is on no connected subnet of port wan0" },
	{ "gateway of the other family",
	  WORKERS PORTS "routes:\n  - to: \"fd00:5::/64\"\n    via: 10.0.2.254\n", "t.yaml:13:10:",
	  "gateway 10.0.2.254 is not of the route's address family" },
	{ "route with neither via nor port", WORKERS PORTS "routes:\n  - to: 10.5.0.0/16\n",
	  "t.yaml:12:5:", "route to 10.5.0.0/16 needs 'via' (a gateway), 'port', or both" },
	{ "link-local gateway without port",
	  WORKERS PORTS "routes:\n  - to: \"::/0\"\n    via: \"fe80::1\"\n", "t.yaml:13:10:",
	  "link-local gateway fe80::1 needs 'port' (the link it is on)" },
	{ "route to an unknown port",
	  WORKERS PORTS "routes:\n  - to: 10.5.0.0/16\n    port: dmz0\n",
	  "t.yaml:13:11:", "unknown port 'dmz0'" },
	{ "router without addresses", WORKERS "ports:\n  - name: lan0\n    device: net_ring_a\n",
	  "t.yaml:5:3:", "router mode needs at least one port with addresses" },
	{ "bridge pair with unknown port",
	  "mode: bridge\n" WORKERS BR_PORTS "bridge: [[lan0, dmz0]]\n",
	  "t.yaml:10:17:", "unknown port 'dmz0'" },
	{ "bridge pair of three",
	  "mode: bridge\n" WORKERS BR_PORTS "bridge: [[lan0, wan0, lan0]]\n", "t.yaml:10:10:",
	  "a bridge pair is a list of two port names" },
	{ "port in two bridge pairs",
	  "mode: bridge\n" WORKERS BR_PORTS "bridge: [[lan0, wan0], [wan0, lan0]]\n",
	  "t.yaml:10:25:",
	  "port 'wan0' is already in a bridge pair" },
	{ "port in no bridge pair",
	  "mode: bridge\n" WORKERS BR_PORTS "  - name: dmz0\n    device: net_ring_c\n"
	  "bridge: [[lan0, wan0]]\n",
	  "t.yaml:12:9:", "port dmz0 is in no bridge pair" },
	{ "bridge mode without pairs", "mode: bridge\n" WORKERS BR_PORTS, "t.yaml:1:1:",
	  "mode bridge needs 'bridge'" },
	{ "routes in bridge mode",
	  "mode: bridge\n" WORKERS BR_PORTS "bridge: [[lan0, wan0]]\nroutes: []\n", "t.yaml:11:9:",
	  "'routes' only apply in router mode" },
	{ "bridge in router mode", WORKERS PORTS "bridge: [[lan0, wan0]]\n", "t.yaml:11:9:",
	  "'bridge' only applies in bridge mode" },
	{ "rx_queues != workers",
	  WORKERS PORT1("    rx_queues: 2\n    addresses: [10.0.1.1/24]\n"), "t.yaml:5:5:",
	  "port lan0: rx_queues (2) must equal the number of workers (1)" },
	{ "tx_queues != workers",
	  WORKERS PORT1("    tx_queues: 3\n    addresses: [10.0.1.1/24]\n"), "t.yaml:5:5:",
	  "port lan0: tx_queues (3) must equal the number of workers (1)" },
	{ "mtu too big", WORKERS PORT1("    mtu: 9001\n"), "t.yaml:7:10:",
	  "mtu must be between 576 and 9000, got 9001" },
	{ "mtu too small", WORKERS PORT1("    mtu: 575\n"), "t.yaml:7:10:",
	  "mtu must be between 576 and 9000, got 575" },
	{ "mtu not a number", WORKERS PORT1("    mtu: 1500b\n"), "t.yaml:7:10:",
	  "mtu must be an unsigned integer, got '1500b'" },
	{ "non power-of-two desc", WORKERS PORT1("    tx_desc: 1000\n"), "t.yaml:5:5:",
	  "port lan0: rx_desc and tx_desc must be powers of two" },
	{ "YAML syntax error", "workers: a: b\n", "t.yaml:1:11:",
	  "YAML syntax error: mapping values are not allowed in this context" },
	{ "alias refused", "eal: &e [x]\nworkers:\n  lcores: [1]\nports: *e\n", "t.yaml:4:8:",
	  "YAML aliases (*name) are not supported" },
	{ "two documents", "workers: {lcores: [1]}\n---\nports: []\n", "t.yaml:2:1:",
	  "only one YAML document is allowed" },
	{ "mapping key not a scalar", "? [a]\n: b\n", "t.yaml:1:3:",
	  "mapping keys must be plain scalars" },
	{ "nesting too deep",
	  "a: [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]\n",
	  "t.yaml:1:36:", "nesting deeper than 32 levels" },
	{ "main lcore used as worker", "workers:\n  main_lcore: 1\n  lcores: [2, 1]\n" PORTS,
	  "t.yaml:3:15:", "lcore 1 is the main (control) lcore; workers need their own" },
	{ "default main lcore used as worker", "workers:\n  lcores: [0]\n" PORTS, "t.yaml:2:12:",
	  "lcore 0 is the main (control) lcore" },
	{ "lcore listed twice", "workers:\n  lcores: [1, 1]\n" PORTS, "t.yaml:2:15:",
	  "lcore 1 listed twice" },
	{ "negative lcore", "workers:\n  lcores: [-1]\n" PORTS, "t.yaml:2:12:",
	  "a worker lcore must be an unsigned integer, got '-1'" },
	{ "no lcores", "workers:\n  lcores: []\n" PORTS, "t.yaml:2:11:",
	  "workers.lcores: between 1 and 64 lcores" },
	{ "lcores not a list", "workers:\n  lcores: 1\n" PORTS, "t.yaml:2:11:",
	  "workers.lcores must be a list, not a scalar" },
	{ "huge number", WORKERS PORTS "mbufs: 99999999999999999999999\n", "t.yaml:11:8:",
	  "mbufs must be an unsigned integer, got '99999999999999999999999'" },
	{ "icmp burst 0", WORKERS PORTS "icmp:\n  burst: 0\n", "t.yaml:12:10:",
	  "icmp.burst must be between 1 and 1000000, got 0" },
	{ "neighbours.max too small", WORKERS PORTS "neighbours: {max: 15}\n", "t.yaml:11:19:",
	  "neighbours.max must be between 16 and 500000, got 15" },
	{ "bad log level", WORKERS PORTS "log:\n  level: loud\n", "t.yaml:12:10:",
	  "log.level must be err, warning, notice, info or debug, not 'loud'" },
	{ "bad boolean", WORKERS PORTS "log: {stderr: maybe}\n", "t.yaml:11:15:",
	  "log.stderr must be true or false, got 'maybe'" },
	{ "eal not a list", "eal: --no-huge\n" WORKERS PORTS, "t.yaml:1:6:",
	  "eal must be a list, not a scalar" },
	{ "empty ruleset path", WORKERS PORTS "ruleset: \"\"\n", "t.yaml:11:10:",
	  "ruleset must not be empty" },
	{ "ruleset list", WORKERS PORTS "ruleset: [a]\n", "t.yaml:11:10:",
	  "ruleset (a file name or a map) must be a map" },
	{ "ruleset without file", WORKERS PORTS "ruleset: {format: yaml}\n", "t.yaml:11:10:",
	  "ruleset needs a file" },
	{ "ruleset bad format", WORKERS PORTS "ruleset: {file: a, format: nft}\n", "t.yaml:11:28:",
	  "ruleset.format must be auto, yaml or iptables, not 'nft'" },
	{ "ruleset unknown key", WORKERS PORTS "ruleset: {file: a, ip6: b}\n", "t.yaml:11:20:",
	  "ip6" },
	{ "yaml ruleset with ip6tables", WORKERS PORTS "ruleset: {file: a, format: yaml, ip6tables: b}\n",
	  "t.yaml:11:10:", "ruleset.ip6tables goes with iptables files" },
	{ "conntrack mode", WORKERS PORTS "conntrack: {mode: maybe}\n", "t.yaml:11:19:",
	  "conntrack.mode must be auto, on or off, not 'maybe'" },
	{ "conntrack unknown key", WORKERS PORTS "conntrack: {max: 5}\n", "t.yaml:11:13:",
	  "unknown key 'max' in conntrack" },
	{ "conntrack too small", WORKERS PORTS "conntrack: {max-entries: 10}\n", "t.yaml:11:26:",
	  "conntrack.max-entries must be between 1024 and" },
	{ "conntrack ipv6 above max", WORKERS PORTS "conntrack: {max-entries: 2000, max-ipv6: 3000}\n",
	  "t.yaml:11:42:", "conntrack.max-ipv6 (3000) cannot exceed max-entries (2000)" },
	{ "conntrack timeout name", WORKERS PORTS "conntrack: {timeouts: {tcp-closed: 5}}\n",
	  "t.yaml:11:24:", "unknown key 'tcp-closed' in conntrack.timeouts" },
	{ "conntrack timeout zero", WORKERS PORTS "conntrack: {timeouts: {udp: 0}}\n", "t.yaml:11:29:",
	  "conntrack.timeouts.udp must be between 1 and" },
	{ "timeout policy without protocol", WORKERS PORTS
	  "conntrack: {timeout-policies: {dns: {unreplied: 5}}}\n", "t.yaml:11:37:",
	  "conntrack.timeout-policies.dns: give its protocol" },
	{ "timeout policy protocol", WORKERS PORTS
	  "conntrack: {timeout-policies: {x: {protocol: dccp}}}\n", "t.yaml:11:46:",
	  "protocol 'dccp' has no timeout policy here" },
	{ "timeout policy attribute", WORKERS PORTS
	  "conntrack: {timeout-policies: {x: {protocol: udp, established: 5}}}\n", "t.yaml:11:51:",
	  "unknown key 'established' for udp (protocol, family, unreplied, replied)" },
	{ "timeout policy family", WORKERS PORTS
	  "conntrack: {timeout-policies: {x: {protocol: icmp, family: ipv6}}}\n", "t.yaml:11:60:",
	  "conntrack.timeout-policies.x.family: icmp exists in ipv4 only" },
	{ "timeout policy zero", WORKERS PORTS
	  "conntrack: {timeout-policies: {x: {protocol: tcp, close-wait: 0}}}\n", "t.yaml:11:63:",
	  "conntrack.timeout-policies.x.close-wait must be between 1 and" },
	{ "conntrack loose", WORKERS PORTS "conntrack: {tcp-loose: sometimes}\n", "t.yaml:11:24:",
	  "conntrack.tcp-loose must be true or false" },
	{ "nat steering", WORKERS PORTS "nat: {rss-steering: maybe}\n", "t.yaml:11:21:",
	  "nat.rss-steering must be true or false" },
	{ "nat unknown key", WORKERS PORTS "nat: {ports: 5}\n", "t.yaml:11:7:",
	  "unknown key 'ports' in nat" },
	{ "control socket too long", WORKERS PORTS "control: {socket: /aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa}\n",
	  "t.yaml:11:19:", "a UNIX socket path has at most 107 characters" },
	{ "control unknown key", WORKERS PORTS "control: {path: x}\n", "t.yaml:11:11:",
	  "unknown key 'path' in control" },
	{ "metrics without port", WORKERS PORTS "metrics: {listen: 127.0.0.1}\n", "t.yaml:11:19:",
	  "metrics.listen: '127.0.0.1' is not ADDRESS:PORT" },
	{ "metrics host name", WORKERS PORTS "metrics: {listen: \"localhost:9617\"}\n", "t.yaml:11:19:",
	  "is not ADDRESS:PORT" },
	{ "metrics port too big", WORKERS PORTS "metrics: {listen: \"[::1]:70000\"}\n", "t.yaml:11:19:",
	  "is not ADDRESS:PORT" },
	{ "metrics unknown key", WORKERS PORTS "metrics: {port: 1}\n", "t.yaml:11:11:",
	  "unknown key 'port' in metrics" },
	{ "packet log kern facility", WORKERS PORTS "log: {packets: {syslog: kern}}\n", "t.yaml:11:25:",
	  "cannot log with the kern facility" },
	{ "packet log unknown facility", WORKERS PORTS "log: {packets: {syslog: local9}}\n",
	  "t.yaml:11:25:", "must be a facility (user, daemon, local0 .. local7) or false" },
	{ "packet log unknown key", WORKERS PORTS "log: {packets: {fifo: x}}\n", "t.yaml:11:17:",
	  "unknown key 'fifo' in log.packets" },
};

/* metrics.listen: the default, IPv6, off */
static void test_metrics_listen(void **state)
{
	(void)state;
	struct sockaddr_storage ss;
	assert_int_equal(cfg_parse_listen("127.0.0.1:9617", &ss), 0);
	assert_int_equal(ss.ss_family, AF_INET);
	assert_int_equal(cfg_parse_listen("[::1]:0", &ss), 0);
	assert_int_equal(ss.ss_family, AF_INET6);
	assert_int_equal(cfg_parse_listen("::1:9617", NULL), -1);
	assert_int_equal(cfg_parse_listen("1.2.3.4:", NULL), -1);
	assert_int_equal(cfg_parse_listen("1.2.3.4:+5", NULL), -1);
	assert_int_equal(cfg_parse_listen("[::1]9617", NULL), -1);
}

static void test_bad(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(bad_cfgs) / sizeof(bad_cfgs[0]); i++) {
		const struct bad *b = &bad_cfgs[i];
		struct cfg c;
		char err[CFG_ERR_MAX] = "";
		memset(&c, 0x5a, sizeof(c));
		int rc = cfg_load_buf(b->yaml, strlen(b->yaml), "t.yaml", &c, err, sizeof(err));
		if (rc != -1)
			fail_msg("%s: loaded (rc %d)", b->what, rc);
		if (strncmp(err, b->where, strlen(b->where)) != 0 || strstr(err, b->msg) == NULL)
			fail_msg("%s:\n  got      '%s'\n  expected '%s ...%s...'", b->what, err,
				 b->where, b->msg);
		if (!all_zero(&c))
			fail_msg("%s: struct cfg not empty after a failed load", b->what);
	}
}

/* An error message never overruns the caller's buffer and is terminated. */
static void test_small_err_buffer(void **state)
{
	(void)state;
	for (size_t len = 1; len < 40; len += 7) {
		char err[64];
		memset(err, 'Z', sizeof(err));
		struct cfg c;
		const struct bad *b = &bad_cfgs[0];
		int rc = cfg_load_buf(b->yaml, strlen(b->yaml), "t.yaml", &c, err, len);
		assert_int_equal(rc, -1);
		assert_int_equal(strlen(err), len - 1);
		for (size_t i = len; i < sizeof(err); i++)
			assert_int_equal(err[i], 'Z');
	}
}

/* ---- cfg_parse_prefix / cfg_parse_addr ------------------------------- */

struct pfx_case {
	const char *s;
	bool host_bits;
	int rc;
	uint8_t family;
	const char *addr;
	uint8_t plen;
};

static void test_parse_prefix(void **state)
{
	(void)state;
	static const struct pfx_case cases[] = {
		{ "10.0.0.0/8", false, 0, 4, "10.0.0.0", 8 },
		{ "10.0.0.1/8", false, -EDOM, 0, NULL, 0 },
		{ "10.0.0.1/8", true, 0, 4, "10.0.0.1", 8 },
		{ "10.0.0.1/32", false, 0, 4, "10.0.0.1", 32 },
		{ "10.0.0.1", false, 0, 4, "10.0.0.1", 32 },
		{ "0.0.0.0/0", false, 0, 4, "0.0.0.0", 0 },
		{ "128.0.0.0/1", false, 0, 4, "128.0.0.0", 1 },
		{ "192.0.0.0/1", false, -EDOM, 0, NULL, 0 },
		{ "10.0.0.128/25", false, 0, 4, "10.0.0.128", 25 },
		{ "10.0.0.64/25", false, -EDOM, 0, NULL, 0 },
		{ "255.255.255.255/31", false, -EDOM, 0, NULL, 0 },
		{ "10.0.0.0/33", false, -ERANGE, 0, NULL, 0 },
		{ "10.0.0.0/999", true, -ERANGE, 0, NULL, 0 },
		{ "10.0.0.0/1000", true, -EINVAL, 0, NULL, 0 },
		{ "10.0.0.0/", true, -EINVAL, 0, NULL, 0 },
		{ "/8", true, -EINVAL, 0, NULL, 0 },
		{ "", true, -EINVAL, 0, NULL, 0 },
		{ "10.0.0.0/-1", true, -EINVAL, 0, NULL, 0 },
		{ "10.0.0.0/ 8", true, -EINVAL, 0, NULL, 0 },
		{ "10.0.0.0/8x", true, -EINVAL, 0, NULL, 0 },
		{ "10.0.0.0/8/8", true, -EINVAL, 0, NULL, 0 },
		{ "10.1/8", true, -EINVAL, 0, NULL, 0 },
		{ "1.2.3.4.5/8", true, -EINVAL, 0, NULL, 0 },
		{ "256.0.0.0/8", true, -EINVAL, 0, NULL, 0 },
		{ "::/0", false, 0, 6, "::", 0 },
		{ "::/128", false, 0, 6, "::", 128 },
		{ "::/129", true, -ERANGE, 0, NULL, 0 },
		{ "fd00::/8", false, 0, 6, "fd00::", 8 },
		{ "fd00::/7", false, -EDOM, 0, NULL, 0 },
		{ "fc00::/7", false, 0, 6, "fc00::", 7 },
		{ "fd00::1/64", false, -EDOM, 0, NULL, 0 },
		{ "fd00::1/64", true, 0, 6, "fd00::1", 64 },
		{ "2001:db8::1", false, 0, 6, "2001:db8::1", 128 },
		{ "2001:db8:0:0:0:0:0:1/127", false, -EDOM, 0, NULL, 0 },
		{ "2001:db8::/127", false, 0, 6, "2001:db8::", 127 },
		{ "::ffff:10.1.2.3/128", false, 0, 6, "::ffff:10.1.2.3", 128 },
		{ "fe80::1%eth0/64", true, -EINVAL, 0, NULL, 0 },
		{ "fd00:::1/64", true, -EINVAL, 0, NULL, 0 },
		{ "1:2:3:4:5:6:7:8:9/64", true, -EINVAL, 0, NULL, 0 },
		/* an address part too long for the parser's buffer */
		{ "0000000000000000000000000000000000000000000000000000000000000000::/8", true,
		  -EINVAL, 0, NULL, 0 },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct pfx_case *t = &cases[i];
		struct cfg_prefix p;
		int rc = cfg_parse_prefix(t->s, &p, t->host_bits);
		if (rc != t->rc)
			fail_msg("'%s' (host bits %d): rc %d, expected %d", t->s, t->host_bits, rc,
				 t->rc);
		if (rc == 0) {
			check_prefix(&p, t->family, t->addr, t->plen);
			char buf[64], want[64];
			cfg_format_prefix(&p, buf, sizeof(buf));
			snprintf(want, sizeof(want), "%s/%u", t->addr, t->plen);
			assert_string_equal(buf, want);
		}
	}
}

static void test_parse_addr(void **state)
{
	(void)state;
	uint8_t fam, a[16];
	memset(a, 0xee, sizeof(a));
	assert_int_equal(cfg_parse_addr("10.1.2.3", &fam, a), 0);
	assert_int_equal(fam, 4);
	static const uint8_t v4[16] = { 10, 1, 2, 3 };
	assert_memory_equal(a, v4, 16); /* the rest zeroed */
	assert_int_equal(cfg_parse_addr("fd77:1::2", &fam, a), 0);
	assert_int_equal(fam, 6);
	static const uint8_t v6[16] = { 0xfd, 0x77, 0, 1, [15] = 2 };
	assert_memory_equal(a, v6, 16);
	assert_int_equal(cfg_parse_addr("::", &fam, a), 0);
	assert_int_equal(fam, 6);
	static const char *const bad[] = { "",         "10.1",       "10.1.2.3/24", "10.1.2.3 ",
					   " 10.1.2.3", "fd00::1/64", "fd00::g",     "1.2.3.4.5",
					   "::1%lo",   "0x0a.1.2.3", "localhost",  ":" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (cfg_parse_addr(bad[i], &fam, a) != -EINVAL)
			fail_msg("'%s' accepted as an address", bad[i]);
}

int main(void)
{
	rp_log_setup(RP_LOG_ERR, true, false);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_demo),
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_every_key),
		cmocka_unit_test(test_linklocal_gateway),
		cmocka_unit_test(test_bad),
		cmocka_unit_test(test_metrics_listen),
		cmocka_unit_test(test_small_err_buffer),
		cmocka_unit_test(test_parse_prefix),
		cmocka_unit_test(test_parse_addr),
	};
	return cmocka_run_group_tests_name("cfg", tests, NULL, NULL);
}
