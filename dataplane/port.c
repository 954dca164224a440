/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * port: brings up the configured ports on the control thread: attaches the
 * device (PCI address or vdev string), gives it one rx and one tx queue per
 * worker, turns on RSS with a symmetric Toeplitz key when the NIC can hash
 * (both directions of a flow reach the same worker: the basis of per-core
 * conntrack), sets the MTU, starts it in promiscuous mode.
 */
#include <errno.h>
#include <stdio.h>

#include <rte_dev.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_malloc.h>

#include "dp_priv.h"
#include "log.h"

/* A Toeplitz key made of one repeated 16-bit word hashes (a,b) and (b,a)
 * identically (Woo & Park, "Scalable TCP Session Monitoring with
 * Symmetric Receive-side Scaling"). */
#define SYM_RSS_WORD 0x6d5a

void dp_sym_rss_key(uint8_t *key, unsigned len)
{
	for (unsigned i = 0; i + 1 < len; i += 2) {
		key[i] = SYM_RSS_WORD >> 8;
		key[i + 1] = SYM_RSS_WORD & 0xff;
	}
}

static void ethdev_name(const struct cfg_port *cp, char *name, size_t len)
{
	size_t n = strcspn(cp->device, ",");
	if (cp->is_pci && n == 7) /* BB:DD.F -> 0000:BB:DD.F */
		snprintf(name, len, "0000:%.*s", (int)n, cp->device);
	else
		snprintf(name, len, "%.*s", (int)n, cp->device);
}

int dp_port_rss_steer(struct dp_ctx *dp, unsigned idx, const uint8_t *key, unsigned klen,
		      const uint16_t *reta, unsigned reta_size, uint64_t rss_hf)
{
	struct dp_port *p = &dp->ports[idx];
	uint8_t hashes = 0;
	if (rss_hf & RTE_ETH_RSS_NONFRAG_IPV4_TCP)
		hashes |= NAT_RSS_TCP4;
	if (rss_hf & RTE_ETH_RSS_NONFRAG_IPV4_UDP)
		hashes |= NAT_RSS_UDP4;
	if (rss_hf & RTE_ETH_RSS_NONFRAG_IPV6_TCP)
		hashes |= NAT_RSS_TCP6;
	if (rss_hf & RTE_ETH_RSS_NONFRAG_IPV6_UDP)
		hashes |= NAT_RSS_UDP6;
	for (unsigned i = 0; i < reta_size && i < NAT_RSS_RETA_MAX; i++)
		if (reta[i] >= dp->n_workers)
			return -1; /* a queue no worker polls: not ours to model */
	struct nat_rss *r = rte_zmalloc("rp_nat_rss", sizeof(*r), RTE_CACHE_LINE_SIZE);
	if (r == NULL)
		return -1;
	if (hashes == 0 || nat_rss_init(r, key, klen, reta, reta_size, hashes) < 0) {
		rte_free(r);
		return -1;
	}
	rte_free(p->nat_rss);
	p->nat_rss = r;
	return 0;
}

/*
 * Replies to source translations through this port can be steered by the
 * NIC (nat_rss) if we know how it spreads packets: the key (ours, read
 * back), the flows it hashes with ports, and a redirection table, which
 * we set to queue i mod n and read back. Anything unknown or refused
 * leaves steering off for the port: the hand-off does the work then.
 */
static void port_steer_setup(struct dp_ctx *dp, unsigned idx, const struct rte_eth_dev_info *info)
{
	struct dp_port *p = &dp->ports[idx];
	const char *why = NULL;
	uint16_t reta[NAT_RSS_RETA_MAX];
	uint8_t key[128] = { 0 };
	struct rte_eth_rss_conf rc = { .rss_key = key, .rss_key_len = sizeof(key) };
	unsigned n = info->reta_size;
	if (n == 0 || n > NAT_RSS_RETA_MAX || (n & (n - 1)) != 0) {
		why = "its redirection table size is not a power of two up to 512";
	} else {
		struct rte_eth_rss_reta_entry64 conf[NAT_RSS_RETA_MAX / RTE_ETH_RETA_GROUP_SIZE];
		memset(conf, 0, sizeof(conf));
		for (unsigned i = 0; i < n; i++) {
			conf[i / RTE_ETH_RETA_GROUP_SIZE].mask |= 1ull << (i % RTE_ETH_RETA_GROUP_SIZE);
			conf[i / RTE_ETH_RETA_GROUP_SIZE].reta[i % RTE_ETH_RETA_GROUP_SIZE] =
				(uint16_t)(i % p->nb_q);
		}
		if (rte_eth_dev_rss_reta_update(p->port_id, conf, (uint16_t)n) != 0)
			why = "the redirection table cannot be set";
		for (unsigned i = 0; i < n && why == NULL; i++)
			conf[i / RTE_ETH_RETA_GROUP_SIZE].reta[i % RTE_ETH_RETA_GROUP_SIZE] = 0;
		if (why == NULL && rte_eth_dev_rss_reta_query(p->port_id, conf, (uint16_t)n) != 0)
			why = "the redirection table cannot be read";
		for (unsigned i = 0; i < n && why == NULL; i++)
			reta[i] = conf[i / RTE_ETH_RETA_GROUP_SIZE].reta[i % RTE_ETH_RETA_GROUP_SIZE];
		if (why == NULL && rte_eth_dev_rss_hash_conf_get(p->port_id, &rc) != 0)
			why = "its hash key cannot be read";
	}
	/* not every driver sets the length it wrote: its key size says it */
	unsigned klen = info->hash_key_size ? info->hash_key_size : rc.rss_key_len;
	if (klen > sizeof(key))
		klen = sizeof(key);
	/* the key read back must be the one port_setup gave (a driver that
	 * answers without copying it leaves zeros: every hash 0) */
	uint8_t ours[40];
	dp_sym_rss_key(ours, sizeof(ours));
	if (why == NULL && (klen < sizeof(ours) || memcmp(key, ours, sizeof(ours)) != 0))
		why = "the hash key read back is not the one it was given";
	if (why == NULL && dp_port_rss_steer(dp, idx, key, klen, reta, n, rc.rss_hf) != 0)
		why = "its hash does not cover TCP/UDP ports or its key is shorter than 40 bytes";
	if (why != NULL)
		RP_NOTICE("port", "port %s: NAT replies not steered by RSS (%s); the hand-off "
				  "between workers carries them",
			  p->name, why);
	else
		RP_INFO("port", "port %s: NAT port choice follows its RSS (%u-entry redirection "
				"table): replies arrive on the owning worker",
			p->name, n);
}

static int port_setup(struct dp_ctx *dp, unsigned idx, const struct cfg_port *cp, char *err,
		      size_t errlen)
{
	struct dp_port *p = &dp->ports[idx];
	char name[RTE_ETH_NAME_MAX_LEN];
	uint16_t pid;
	int rc;

	ethdev_name(cp, name, sizeof(name));
	if (rte_eth_dev_get_port_by_name(name, &pid) != 0) {
		rc = rte_dev_probe(cp->device);
		if (rc < 0 || rte_eth_dev_get_port_by_name(name, &pid) != 0) {
			snprintf(err, errlen, "port %s: cannot attach device '%s': %s%s", cp->name,
				 cp->device, rc < 0 ? rte_strerror(-rc) : "no ethdev named ",
				 rc < 0 ? "" : name);
			return -1;
		}
	}
	p->port_id = pid;
	p->mtu = cp->mtu;
	snprintf(p->name, sizeof(p->name), "%s", cp->name);

	struct rte_eth_dev_info info;
	rc = rte_eth_dev_info_get(pid, &info);
	if (rc < 0) {
		snprintf(err, errlen, "port %s: cannot get device info: %s", cp->name,
			 rte_strerror(-rc));
		return -1;
	}
	uint16_t nq = (uint16_t)dp->n_workers;
	if (info.max_rx_queues < nq || info.max_tx_queues < nq) {
		snprintf(err, errlen,
			 "port %s (%s): device has %u rx / %u tx queues, %u workers need %u of "
			 "each%s",
			 cp->name, info.driver_name, info.max_rx_queues, info.max_tx_queues,
			 dp->n_workers, nq,
			 strstr(info.driver_name, "af_packet") ? " (set qpairs= in the vdev string)"
							       : "");
		return -1;
	}
	p->nb_q = nq;

	struct rte_eth_conf conf;
	memset(&conf, 0, sizeof(conf));
	uint8_t key[128];
	if (nq > 1 && info.flow_type_rss_offloads != 0) {
		uint8_t klen = info.hash_key_size ? info.hash_key_size : 40;
		if (klen > sizeof(key))
			klen = sizeof(key);
		dp_sym_rss_key(key, klen);
		conf.rxmode.mq_mode = RTE_ETH_MQ_RX_RSS;
		conf.rx_adv_conf.rss_conf.rss_key = key;
		conf.rx_adv_conf.rss_conf.rss_key_len = klen;
		conf.rx_adv_conf.rss_conf.rss_hf =
			(RTE_ETH_RSS_IP | RTE_ETH_RSS_TCP | RTE_ETH_RSS_UDP) &
			info.flow_type_rss_offloads;
		p->rss = true;
	} else if (nq > 1) {
		RP_NOTICE("port", "port %s (%s): no RSS support; relying on the driver's own "
				  "queue spreading (af_packet: the kernel's symmetric fanout hash)",
			  cp->name, info.driver_name);
	}
	if (info.rx_offload_capa & RTE_ETH_RX_OFFLOAD_IPV4_CKSUM)
		conf.rxmode.offloads |= RTE_ETH_RX_OFFLOAD_IPV4_CKSUM;
	/* TCP/UDP checksums checked by the NIC: connection tracking treats
	 * a packet it reports bad as INVALID (conntrack.checksum), as the
	 * kernel does; without the offload the worker checks them in
	 * software (ct_fast.c), unless the port says rx_checksum: trust (a
	 * virtual device whose peer leaves checksums to offload) */
	const uint64_t l4ck = RTE_ETH_RX_OFFLOAD_TCP_CKSUM | RTE_ETH_RX_OFFLOAD_UDP_CKSUM;
	conf.rxmode.offloads |= info.rx_offload_capa & l4ck;
	p->sw_l4_csum = (info.rx_offload_capa & l4ck) != l4ck && !cp->rx_csum_trust;
	if (p->sw_l4_csum && dp->ct_mode != CFG_CT_OFF && dp->ct_par.checksum)
		RP_NOTICE("port", "port %s (%s): no TCP/UDP receive checksum offload: connection "
				  "tracking checks checksums in software (a peer that leaves them to "
				  "offload, as a veth with tx offload on, needs rx_checksum: trust)",
			  cp->name, info.driver_name);

	rc = rte_eth_dev_configure(pid, nq, nq, &conf);
	if (rc < 0) {
		snprintf(err, errlen, "port %s: configure failed: %s", cp->name, rte_strerror(-rc));
		return -1;
	}
	uint16_t mtu_now = 0;
	if (rte_eth_dev_get_mtu(pid, &mtu_now) == 0 && mtu_now != cp->mtu) {
		rc = rte_eth_dev_set_mtu(pid, cp->mtu);
		if (rc < 0) {
			snprintf(err, errlen, "port %s: cannot set MTU %u: %s", cp->name, cp->mtu,
				 rte_strerror(-rc));
			return -1;
		}
	}
	uint16_t nrx = cp->rx_desc, ntx = cp->tx_desc;
	rte_eth_dev_adjust_nb_rx_tx_desc(pid, &nrx, &ntx);
	int socket = rte_eth_dev_socket_id(pid);
	if (socket < 0)
		socket = (int)rte_socket_id();
	for (uint16_t q = 0; q < nq; q++) {
		rc = rte_eth_rx_queue_setup(pid, q, nrx, (unsigned)socket, NULL, dp->pool);
		if (rc == 0)
			rc = rte_eth_tx_queue_setup(pid, q, ntx, (unsigned)socket, NULL);
		if (rc < 0) {
			snprintf(err, errlen, "port %s: queue %u setup failed: %s", cp->name, q,
				 rte_strerror(-rc));
			return -1;
		}
	}
	rc = rte_eth_dev_start(pid);
	if (rc < 0) {
		snprintf(err, errlen, "port %s: start failed: %s", cp->name, rte_strerror(-rc));
		return -1;
	}
	rc = rte_eth_promiscuous_enable(pid);
	if (rc < 0 && rc != -ENOTSUP)
		RP_WARN("port", "port %s: cannot enable promiscuous mode: %s", cp->name,
			rte_strerror(-rc));
	rte_eth_macaddr_get(pid, &p->mac);
	p->mac48 = dp_mac_pack(&p->mac);
	RP_INFO("port", "port %s: %s (%s), %u queue%s%s, mtu %u, mac %02x:%02x:%02x:%02x:%02x:%02x",
		cp->name, name, info.driver_name, nq, nq > 1 ? "s" : "",
		p->rss ? ", symmetric RSS" : "", cp->mtu, p->mac.addr_bytes[0],
		p->mac.addr_bytes[1], p->mac.addr_bytes[2], p->mac.addr_bytes[3],
		p->mac.addr_bytes[4], p->mac.addr_bytes[5]);
	if (p->rss && dp->nat_rss_steer)
		port_steer_setup(dp, idx, &info);
	return 0;
}

static void set_addresses(struct dp_port *p, const struct cfg_port *cp)
{
	for (unsigned j = 0; j < cp->n_addrs; j++) {
		const struct cfg_prefix *pf = &cp->addrs[j];
		if (pf->family == 4) {
			memcpy(&p->ip4[p->n4], pf->addr, 4);
			p->plen4[p->n4++] = pf->plen;
		} else {
			memcpy(p->ip6[p->n6], pf->addr, 16);
			p->plen6[p->n6++] = pf->plen;
		}
	}
	/* link-local fe80::/64 from the MAC (modified EUI-64), kept last */
	uint8_t *ll = p->ip6[p->n6];
	memset(ll, 0, 16);
	ll[0] = 0xfe;
	ll[1] = 0x80;
	ll[8] = p->mac.addr_bytes[0] ^ 0x02;
	ll[9] = p->mac.addr_bytes[1];
	ll[10] = p->mac.addr_bytes[2];
	ll[11] = 0xff;
	ll[12] = 0xfe;
	ll[13] = p->mac.addr_bytes[3];
	ll[14] = p->mac.addr_bytes[4];
	ll[15] = p->mac.addr_bytes[5];
	p->plen6[p->n6++] = 64;
}

int dp_ports_init(struct dp_ctx *dp, const struct cfg *c, char *err, size_t errlen)
{
	for (unsigned i = 0; i < c->n_ports; i++) {
		if (port_setup(dp, i, &c->ports[i], err, errlen) < 0)
			return -1;
		dp->n_ports = i + 1;
		set_addresses(&dp->ports[i], &c->ports[i]);
		dp->ports[i].peer = (uint16_t)i;
	}
	for (unsigned k = 0; k < c->n_pairs; k++) {
		dp->ports[c->pairs[k][0]].peer = c->pairs[k][1];
		dp->ports[c->pairs[k][1]].peer = c->pairs[k][0];
	}
	return 0;
}

void dp_ports_close(struct dp_ctx *dp)
{
	for (unsigned i = 0; i < dp->n_ports; i++) {
		uint16_t pid = dp->ports[i].port_id;
		int rc = rte_eth_dev_stop(pid);
		if (rc < 0)
			RP_WARN("port", "port %s: stop: %s", dp->ports[i].name, rte_strerror(-rc));
		rte_eth_dev_close(pid);
		rte_free(dp->ports[i].nat_rss);
		dp->ports[i].nat_rss = NULL;
	}
	dp->n_ports = 0;
}
