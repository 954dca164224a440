/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * fuzz_cfg: libFuzzer target for cfg_load_buf(), the YAML configuration
 * loader (libyaml events -> node tree -> struct cfg). A configuration file
 * is hostile input. Besides "no crash, no leak": a failed load leaves the
 * struct all zero and a terminated "fuzz.yaml:..." message; a successful
 * one respects the limits the rest of the daemon relies on.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cfg.h"
#include "log.h"

#define CHECK(c)                                                                           \
	do {                                                                               \
		if (!(c))                                                                  \
			__builtin_trap();                                                  \
	} while (0)

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	rp_log_setup(RP_LOG_ERR, false, false);
	return 0;
}

static void check_loaded(const struct cfg *c)
{
	CHECK(c->n_workers >= 1 && c->n_workers <= CFG_MAX_WORKERS);
	for (unsigned i = 0; i < c->n_workers; i++)
		CHECK(c->worker_lcores[i] != c->main_lcore);
	CHECK(c->n_ports >= 1 && c->n_ports <= CFG_MAX_PORTS);
	for (unsigned i = 0; i < c->n_ports; i++) {
		const struct cfg_port *p = &c->ports[i];
		CHECK(p->name[0] != '\0' && memchr(p->name, 0, sizeof(p->name)) != NULL);
		CHECK(memchr(p->device, 0, sizeof(p->device)) != NULL);
		CHECK(p->mtu >= 576 && p->mtu <= 9000 && p->n_addrs <= CFG_MAX_ADDRS);
		CHECK((p->rx_desc & (p->rx_desc - 1)) == 0 && (p->tx_desc & (p->tx_desc - 1)) == 0);
		for (unsigned j = 0; j < p->n_addrs; j++)
			CHECK((p->addrs[j].family == 4 && p->addrs[j].plen <= 32) ||
			      (p->addrs[j].family == 6 && p->addrs[j].plen <= 128));
		CHECK(cfg_port_index(c, p->name) == (int)i);
	}
	CHECK(c->n_routes <= CFG_MAX_ROUTES && (c->n_routes == 0 || c->routes != NULL));
	for (unsigned r = 0; r < c->n_routes; r++)
		CHECK(c->routes[r].port >= 0 && (unsigned)c->routes[r].port < c->n_ports);
	if (c->mode == CFG_MODE_BRIDGE) {
		CHECK(c->n_routes == 0 && c->n_pairs >= 1);
		for (unsigned k = 0; k < c->n_pairs; k++)
			CHECK(c->pairs[k][0] < c->n_ports && c->pairs[k][1] < c->n_ports &&
			      c->pairs[k][0] != c->pairs[k][1]);
	}
	CHECK(c->n_eal <= CFG_MAX_EAL_ARGS);
	for (unsigned i = 0; i < c->n_eal; i++)
		CHECK(c->eal_args[i] != NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct cfg zero;
	/* exact-size copy, not NUL-terminated: the loader must go by len */
	char *buf = malloc(size ? size : 1);
	if (buf == NULL)
		return 0;
	memcpy(buf, data, size);
	struct cfg c;
	char err[CFG_ERR_MAX];
	memset(err, 'X', sizeof(err));
	int rc = cfg_load_buf(buf, size, "fuzz.yaml", &c, err, sizeof(err));
	if (rc == 0) {
		check_loaded(&c);
		cfg_free(&c);
		CHECK(memcmp(&c, &zero, sizeof(c)) == 0);
	} else {
		CHECK(rc == -1);
		CHECK(memcmp(&c, &zero, sizeof(c)) == 0);
		CHECK(memchr(err, 0, sizeof(err)) != NULL);
		CHECK(strncmp(err, "fuzz.yaml:", 10) == 0);
	}
	free(buf);
	return 0;
}
