/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ct_filter: conntrack(8)-style filter options of `rampartctl conntrack`
 * (no DPDK: the control-protocol fuzzer runs it).
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "dp_ct.h"

void dp_ct_filter_init(struct dp_ct_filter *f)
{
	memset(f, 0, sizeof(*f));
	f->sport = f->dport = f->rsport = f->rdport = -1;
	f->state = f->sctp_state = -1;
	f->zone = f->zone_orig = f->zone_reply = -1;
}

int dp_ct_filter_parse(struct dp_ct_filter *f, int argc, char **argv, int *optind_out, char *err,
	size_t errlen)
{
	dp_ct_filter_init(f);
	int i = 0;
	while (i < argc) { /* an option and its value each time */
		const char *o = argv[i];
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (o[0] != '-')
			break;
		/* --src-nat[=ADDR], --dst-nat, --any-nat: the address is
		 * optional (conntrack(8)), attached or as the next word */
		const char *eq = strchr(o, '=');
		size_t ol = eq ? (size_t)(eq - o) : strlen(o);
		uint8_t natf = ol == 9 && !strncmp(o, "--src-nat", 9) ? DP_CT_F_SNAT :
			       ol == 9 && !strncmp(o, "--dst-nat", 9) ? DP_CT_F_DNAT :
			       ol == 9 && !strncmp(o, "--any-nat", 9) ? DP_CT_F_ANYNAT : 0;
		if (natf) {
			const char *a = eq ? eq + 1 : (v && v[0] != '-' ? v : NULL);
			if ((f->nat | natf) & DP_CT_F_ANYNAT && (f->nat | natf) != DP_CT_F_ANYNAT) {
				snprintf(err, errlen, "--any-nat goes without --src-nat and --dst-nat");
				return -1;
			}
			f->nat |= natf;
			if (a != NULL) {
				uint8_t fam = 0, ad[16] = { 0 };
				if (inet_pton(AF_INET, a, ad) == 1)
					fam = 4;
				else if (inet_pton(AF_INET6, a, ad) == 1)
					fam = 6;
				if (fam == 0 || (f->fam && f->fam != fam)) {
					snprintf(err, errlen, "invalid address '%s' for %.*s", a, (int)ol, o);
					return -1;
				}
				f->fam = fam;
				if (natf != DP_CT_F_DNAT) {
					memcpy(f->snat_addr, ad, 16);
					f->has_snat_addr = true;
				}
				if (natf != DP_CT_F_SNAT) {
					memcpy(f->dnat_addr, ad, 16);
					f->has_dnat_addr = true;
				}
			}
			i += eq || a == NULL ? 1 : 2;
			continue;
		}
		if (v == NULL) {
			snprintf(err, errlen, "option %s needs a value", o);
			return -1;
		}
		if (!strcmp(o, "-p") || !strcmp(o, "--proto") || !strcmp(o, "--protonum")) {
			static const struct { const char *n; uint8_t p; } pn[] = {
				{ "tcp", 6 }, { "udp", 17 }, { "icmp", 1 }, { "icmpv6", 58 },
				{ "ipv6-icmp", 58 }, { "udplite", 136 }, { "sctp", 132 },
				{ "dccp", 33 }, { "gre", 47 },
			};
			char *end;
			unsigned long n = strtoul(v, &end, 10);
			if (*v && *end == '\0' && n <= 255) {
				f->proto = (uint8_t)n;
			} else {
				f->proto = 0;
				for (size_t k = 0; k < sizeof(pn) / sizeof(pn[0]); k++)
					if (!strcmp(pn[k].n, v))
						f->proto = pn[k].p;
				if (f->proto == 0) {
					snprintf(err, errlen, "unknown protocol '%s'", v);
					return -1;
				}
			}
			f->has_proto = true;
		} else if (!strcmp(o, "-s") || !strcmp(o, "--src") || !strcmp(o, "--orig-src") ||
			   !strcmp(o, "-d") || !strcmp(o, "--dst") || !strcmp(o, "--orig-dst") ||
			   !strcmp(o, "-r") || !strcmp(o, "--reply-src") || !strcmp(o, "-q") ||
			   !strcmp(o, "--reply-dst")) {
			bool reply = o[1] == 'r' || o[1] == 'q' || !strncmp(o, "--reply", 7);
			bool src = o[1] == 's' || o[1] == 'r' || strstr(o, "src") != NULL;
			uint8_t *a = reply ? (src ? f->rsrc : f->rdst) : src ? f->src : f->dst;
			uint8_t fam;
			if (inet_pton(AF_INET, v, a) == 1) {
				memset(a + 4, 0, 12);
				fam = 4;
			} else if (inet_pton(AF_INET6, v, a) == 1) {
				fam = 6;
			} else {
				snprintf(err, errlen, "invalid address '%s' for %s", v, o);
				return -1;
			}
			if (f->fam && f->fam != fam) {
				snprintf(err, errlen, "%s: address family differs from the other filters", o);
				return -1;
			}
			f->fam = fam;
			if (reply && src)
				f->has_rsrc = true;
			else if (reply)
				f->has_rdst = true;
			else if (src)
				f->has_src = true;
			else
				f->has_dst = true;
		} else if (!strcmp(o, "--sport") || !strcmp(o, "--orig-port-src") ||
			   !strcmp(o, "--dport") || !strcmp(o, "--orig-port-dst") ||
			   !strcmp(o, "--reply-port-src") || !strcmp(o, "--reply-port-dst")) {
			char *end;
			unsigned long n = strtoul(v, &end, 10);
			if (!*v || *end || n > 65535) {
				snprintf(err, errlen, "invalid port '%s' for %s", v, o);
				return -1;
			}
			bool reply = !strncmp(o, "--reply", 7);
			if (strstr(o, "sport") || strstr(o, "src"))
				*(reply ? &f->rsport : &f->sport) = (int)n;
			else
				*(reply ? &f->rdport : &f->dport) = (int)n;
		} else if (!strcmp(o, "--state")) {
			/* a TCP or an SCTP state (ESTABLISHED is both) */
			f->state = f->sctp_state = -1;
			for (int s = 1; s < CT_TCP_MAX; s++)
				if (!strcasecmp(v, ct_tcp_state_names[s]))
					f->state = s;
			for (int s = 1; s < CT_SCTP_MAX; s++)
				if (!strcasecmp(v, ct_sctp_state_names[s]))
					f->sctp_state = s;
			if (f->state < 0 && f->sctp_state < 0) {
				snprintf(err, errlen, "unknown state '%s' (TCP: SYN_SENT, SYN_RECV, "
						      "ESTABLISHED, FIN_WAIT, CLOSE_WAIT, LAST_ACK, "
						      "TIME_WAIT, CLOSE; SCTP: CLOSED, COOKIE_WAIT, "
						      "COOKIE_ECHOED, ESTABLISHED, SHUTDOWN_SENT, "
						      "SHUTDOWN_RECD, SHUTDOWN_ACK_SENT, HEARTBEAT_SENT)", v);
				return -1;
			}
			f->has_state = true;
		} else if (!strcmp(o, "-m") || !strcmp(o, "--mark")) {
			char *end;
			unsigned long long n = strtoull(v, &end, 0), m = 0xffffffffull;
			if (*end == '/')
				m = strtoull(end + 1, &end, 0);
			if (!*v || *end || n > 0xffffffffull || m > 0xffffffffull) {
				snprintf(err, errlen, "invalid mark '%s' (value[/mask])", v);
				return -1;
			}
			f->has_mark = true;
			f->mark = (uint32_t)n;
			f->mask = (uint32_t)m;
		} else if (!strcmp(o, "-w") || !strcmp(o, "--zone") || !strcmp(o, "--orig-zone") ||
			   !strcmp(o, "--reply-zone")) {
			char *end;
			unsigned long n = strtoul(v, &end, 0);
			if (!*v || *v == '-' || *end || n > 65535) {
				snprintf(err, errlen, "invalid zone '%s' for %s (0-65535)", v, o);
				return -1;
			}
			int *z = !strcmp(o, "--orig-zone") ? &f->zone_orig :
				 !strcmp(o, "--reply-zone") ? &f->zone_reply : &f->zone;
			*z = (int)n;
		} else if (!strcmp(o, "-f") || !strcmp(o, "--family")) {
			uint8_t fam = !strcmp(v, "ipv4") ? 4 : !strcmp(v, "ipv6") ? 6 : 0;
			if (fam == 0 || (f->fam && f->fam != fam)) {
				snprintf(err, errlen, "invalid family '%s' (ipv4 or ipv6)", v);
				return -1;
			}
			f->fam = fam;
		} else {
			snprintf(err, errlen, "unknown option '%s'", o);
			return -1;
		}
		i += 2;
	}
	*optind_out = i;
	return 0;
}

