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

#include "dp_priv.h"
#include "log.h"

/* A Toeplitz key made of one repeated 16-bit word hashes (a,b) and (b,a)
 * identically (Woo & Park, "Scalable TCP Session Monitoring with
 * Symmetric Receive-side Scaling"). */
#define SYM_RSS_WORD 0x6d5a

static void ethdev_name(const struct cfg_port *cp, char *name, size_t len)
{
	size_t n = strcspn(cp->device, ",");
	if (cp->is_pci && n == 7) /* BB:DD.F -> 0000:BB:DD.F */
		snprintf(name, len, "0000:%.*s", (int)n, cp->device);
	else
		snprintf(name, len, "%.*s", (int)n, cp->device);
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
		for (unsigned i = 0; i < klen; i += 2) {
			key[i] = SYM_RSS_WORD >> 8;
			key[i + 1] = SYM_RSS_WORD & 0xff;
		}
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
	 * kernel does; without the offload nothing is checked in software
	 * (virtual NICs hand over locally built packets whose checksum is
	 * left to offload, which the kernel trusts too) */
	conf.rxmode.offloads |= info.rx_offload_capa &
		(RTE_ETH_RX_OFFLOAD_TCP_CKSUM | RTE_ETH_RX_OFFLOAD_UDP_CKSUM);

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
	RP_INFO("port", "port %s: %s (%s), %u queue%s%s, mtu %u, mac %02x:%02x:%02x:%02x:%02x:%02x",
		cp->name, name, info.driver_name, nq, nq > 1 ? "s" : "",
		p->rss ? ", symmetric RSS" : "", cp->mtu, p->mac.addr_bytes[0],
		p->mac.addr_bytes[1], p->mac.addr_bytes[2], p->mac.addr_bytes[3],
		p->mac.addr_bytes[4], p->mac.addr_bytes[5]);
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
	}
	dp->n_ports = 0;
}
