/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * rampartd: the daemon. Loads rampart.yaml (exit 2 on any error, nothing
 * started), initialises DPDK's EAL, builds the dataplane, launches one
 * worker per configured lcore and runs the control loop on the main lcore
 * until SIGTERM/SIGINT; then workers stop, ports stop and close, exit 0.
 * SIGUSR1 prints the counters to the log.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_lcore.h>

#include "cfg.h"
#include "ctl.h"
#include "dp_metrics.h"
#include "metrics.h"
#include "dp_ct.h"
#include "dp.h"
#include "log.h"
#include "rampart_version.h"
#include "rules_prog.h"
#include "ruleset.h"

#define EXIT_CONFIG 2

static volatile sig_atomic_t g_stop;
static volatile sig_atomic_t g_dump;
static volatile sig_atomic_t g_hup;

static void on_signal(int sig)
{
	if (sig == SIGUSR1)
		g_dump = 1;
	else if (sig == SIGHUP)
		g_hup = 1;
	else
		g_stop = 1;
}

static void usage(FILE *out)
{
	fprintf(out,
		"usage: rampartd [-c FILE] [--check] [-h] [-V]\n"
		"  -c, --config FILE  daemon configuration (default /etc/rampart/rampart.yaml)\n"
		"      --check        validate the configuration and exit (0 valid, 2 invalid)\n"
		"  -V, --version      print the version\n"
		"signals: TERM/INT stop, USR1 prints counters to the log, HUP reloads the ruleset\n");
}

static bool eal_has_lcores(const struct cfg *c)
{
	for (unsigned i = 0; i < c->n_eal; i++) {
		const char *a = c->eal_args[i];
		if (!strcmp(a, "-l") || !strcmp(a, "-c") || !strncmp(a, "--lcores", 8) ||
		    !strncmp(a, "-l", 2) || !strncmp(a, "--main-lcore", 12))
			return true;
	}
	return false;
}

/* Load and compile the ruleset the configuration names, as rampartd will
 * run it (compile errors are configuration errors too). */
static int load_rules(const struct cfg *c, struct rules_ruleset **rs, char *err, size_t errlen)
{
	if (rp_ruleset_load(c, rs, err, errlen) < 0)
		return -1;
	if (*rs == NULL)
		return 0;
	const char *names[CFG_MAX_PORTS];
	for (unsigned i = 0; i < c->n_ports; i++)
		names[i] = c->ports[i].name;
	struct rules_prog *p = rules_prog_compile(*rs, names, c->n_ports, 0, err, errlen);
	if (p == NULL) {
		rules_free(*rs);
		*rs = NULL;
		return -1;
	}
	/* what dp_rules_install would refuse, said before the EAL starts */
	const char *why = dp_rules_refused(p, c->mode, c->ct_mode);
	rules_prog_free(p);
	if (why != NULL) {
		int n = snprintf(err, errlen, "%.*s: %s", 256, c->ruleset[0] ? c->ruleset : c->ruleset6,
				 why);
		(void)n;
		rules_free(*rs);
		*rs = NULL;
		return -1;
	}
	return 0;
}

/* The ruleset's place in a configuration: what SIGHUP takes from the
 * reloaded one */
struct rs_paths {
	char ruleset[CFG_PATH_MAX], ruleset6[CFG_PATH_MAX], ipsets[CFG_PATH_MAX];
	uint8_t format;
	int line, col;
};

static void rs_paths_get(const struct cfg *c, struct rs_paths *r)
{
	memcpy(r->ruleset, c->ruleset, sizeof(r->ruleset));
	memcpy(r->ruleset6, c->ruleset6, sizeof(r->ruleset6));
	memcpy(r->ipsets, c->ipsets, sizeof(r->ipsets));
	r->format = c->ruleset_format;
	r->line = c->ruleset_line;
	r->col = c->ruleset_col;
}

static void rs_paths_set(struct cfg *c, const struct rs_paths *r)
{
	memcpy(c->ruleset, r->ruleset, sizeof(c->ruleset));
	memcpy(c->ruleset6, r->ruleset6, sizeof(c->ruleset6));
	memcpy(c->ipsets, r->ipsets, sizeof(c->ipsets));
	c->ruleset_format = r->format;
	c->ruleset_line = r->line;
	c->ruleset_col = r->col;
}

/* SIGHUP, first: the configuration's conntrack timeouts and TCP options
 * (sizes need a restart), and where the ruleset is (*paths, for
 * reload_rules). A configuration that does not load changes nothing:
 * false. */
static bool reload_ct_params(struct dp_ctx *dp, const struct cfg *c, struct rs_paths *paths)
{
	char err[CFG_ERR_MAX];
	struct cfg n;
	if (cfg_load(c->path, &n, err, sizeof(err)) < 0) {
		RP_ERR("main", "SIGHUP: configuration not reloaded, the ruleset not read again: %s",
		       err);
		return false;
	}
	rs_paths_get(&n, paths);
	if (n.ct.max != c->ct.max || n.ct.max6 != c->ct.max6 || n.ct_mode != c->ct_mode)
		RP_WARN("main", "SIGHUP: conntrack.mode, max-entries and max-ipv6 change at the next "
				"start only");
	/* the timeout policies: kept by name, added, removed (their ids
	 * retire once the ruleset no longer names them: rp_tpol_retire) */
	char warn[400];
	struct ct_params *p = malloc(sizeof(*p));
	if (p == NULL) {
		RP_ERR("main", "SIGHUP: conntrack timeouts not reloaded: out of memory");
		cfg_free(&n);
		return true;
	}
	if (!rp_tpol_reload(&n, p, warn, sizeof(warn)))
		RP_WARN("main", "SIGHUP: %s", warn);
	if (dp_ct_set_params(dp, p))
		RP_NOTICE("main", "SIGHUP: conntrack timeouts and options reloaded");
	free(p);
	cfg_free(&n);
	return true;
}

/* the last ruleset load, for the metrics */
static struct dp_metrics_info g_info = { .version = RAMPART_VERSION };

static void reload_done(bool ok)
{
	g_info.reload_ok = ok;
	g_info.reload_time = (uint64_t)time(NULL);
}

/* SIGHUP: read the ruleset files again, where the reloaded configuration
 * c says they are (paths); on any error keep the running one and the
 * files it came from. Rules that did not change keep their counters. */
static void reload_rules(struct rp_ctl_env *env, struct cfg *c, const struct rs_paths *paths)
{
	rp_ctl_set_requests_now(env); /* -j SET's changes made before it first */
	struct rs_paths old;
	rs_paths_get(c, &old);
	rs_paths_set(c, paths);
	char err[CFG_ERR_MAX];
	if (rp_ctl_reload(env, err, sizeof(err)) < 0) {
		rs_paths_set(c, &old);
		RP_ERR("main", "SIGHUP: ruleset not reloaded, the running one stays: %s", err);
		return;
	}
	RP_NOTICE("main", "SIGHUP: ruleset reloaded");
}

/* SIGUSR1: the live ruleset with its counters, as iptables-save -c prints it. */
static void dump_rules(struct dp_ctx *dp)
{
	static const int fams[2] = { RULES_F_V4, RULES_F_V6 };
	for (int i = 0; i < 2; i++) {
		char *s = dp_rules_save(dp, fams[i], RULES_PRINT_COUNTERS);
		if (s == NULL)
			continue;
		fprintf(stderr, "# %s-save -c\n%s", i ? "ip6tables" : "iptables", s);
		free(s);
	}
	fflush(stderr);
}

int main(int argc, char **argv)
{
	const char *path = "/etc/rampart/rampart.yaml";
	bool check = false;
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "check", no_argument, NULL, 'k' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	int o;
	while ((o = getopt_long(argc, argv, "c:hV", opts, NULL)) != -1) {
		switch (o) {
		case 'c':
			path = optarg;
			break;
		case 'k':
			check = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			printf("rampartd %s\n", RAMPART_VERSION);
			return 0;
		default:
			usage(stderr);
			return EXIT_CONFIG;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return EXIT_CONFIG;
	}

	static struct cfg c;
	char err[CFG_ERR_MAX];
	if (cfg_load(path, &c, err, sizeof(err)) < 0) {
		fprintf(stderr, "rampartd: %s\n", err);
		return EXIT_CONFIG;
	}
	struct rules_ruleset *rs = NULL;
	if (load_rules(&c, &rs, err, sizeof(err)) < 0) {
		fprintf(stderr, "rampartd: %s\n", err);
		cfg_free(&c);
		return EXIT_CONFIG;
	}
	if (check) {
		printf("%s: configuration is valid (%u ports, %u workers, %s mode), %s\n", path,
		       c.n_ports, c.n_workers, c.mode == CFG_MODE_ROUTER ? "router" : "bridge",
		       rs ? "ruleset valid" : "no ruleset");
		rules_free(rs);
		cfg_free(&c);
		return 0;
	}
	rp_log_setup((enum rp_log_level)c.log_level, c.log_stderr, c.log_syslog);
	if (rp_pktlog_setup(!c.pktlog_set, c.pktlog_facility, c.pktlog_file) < 0) {
		cfg_free(&c);
		return 1;
	}

	/* EAL argv: ours, then the lcore list unless the operator gave one */
	char *eargv[CFG_MAX_EAL_ARGS + 8];
	int eargc = 0;
	char lcores[CFG_MAX_WORKERS * 6 + 16], mainl[16];
	eargv[eargc++] = argv[0];
	for (unsigned i = 0; i < c.n_eal; i++)
		eargv[eargc++] = c.eal_args[i];
	if (!eal_has_lcores(&c)) {
		int off = snprintf(lcores, sizeof(lcores), "%u", c.main_lcore);
		for (unsigned i = 0; i < c.n_workers; i++)
			off += snprintf(lcores + off, sizeof(lcores) - (size_t)off, ",%u",
					c.worker_lcores[i]);
		snprintf(mainl, sizeof(mainl), "%u", c.main_lcore);
		eargv[eargc++] = (char *)"-l";
		eargv[eargc++] = lcores;
		eargv[eargc++] = (char *)"--main-lcore";
		eargv[eargc++] = mainl;
	}
	eargv[eargc] = NULL;
	if (rte_eal_init(eargc, eargv) < 0) {
		RP_ERR("main", "cannot initialise DPDK's EAL: %s", rte_strerror(rte_errno));
		cfg_free(&c);
		return 1;
	}
	int rc = 1;
	struct dp_ctx *dp = NULL;
	struct rp_ctl *ctl = NULL;
	struct rp_metrics *metrics = NULL;
	if (rte_get_main_lcore() != c.main_lcore) {
		RP_ERR("main", "%s: main lcore is %u but workers.main_lcore says %u", path,
		       rte_get_main_lcore(), c.main_lcore);
		goto out;
	}
	for (unsigned i = 0; i < c.n_workers; i++) {
		if (!rte_lcore_is_enabled(c.worker_lcores[i]) ||
		    c.worker_lcores[i] == rte_get_main_lcore()) {
			RP_ERR("main", "%s: worker lcore %u is not enabled in EAL (check 'eal' -l/--lcores)",
			       path, c.worker_lcores[i]);
			goto out;
		}
	}
	dp = dp_create(&c, err, sizeof(err));
	if (dp == NULL) {
		RP_ERR("main", "%s", err);
		goto out;
	}
	if (rs != NULL) {
		/* set timeouts were read on CLOCK_MONOTONIC: the dataplane's clock now */
		uint64_t mono = rules_clock_mono_us();
		rules_ipset_rebase(rs, mono, rules_clock_us());
		if (dp_rules_update(dp, rs, false, err, sizeof(err), NULL) < 0) {
			RP_ERR("main", "%s", err);
			goto out;
		}
		rs = NULL; /* the dataplane owns it */
	}
	reload_done(true);

	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGUSR1, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	if (dp_start(dp) < 0)
		goto out;
	struct rp_ctl_env env = { .dp = dp, .cfg = &c, .info = &g_info };
	if (c.ctl_socket[0] && (ctl = rp_ctl_open(&c, &env)) == NULL)
		goto out;
	if (c.metrics_listen[0] && (metrics = rp_metrics_open(c.metrics_listen, dp, &g_info)) == NULL)
		goto out;
	RP_NOTICE("main", "rampartd %s running: %u ports, %u workers, %s mode", RAMPART_VERSION,
		  c.n_ports, c.n_workers, c.mode == CFG_MODE_ROUTER ? "router" : "bridge");
	while (!g_stop) {
		unsigned n = dp_ctl_poll(dp);
		if (g_hup) {
			g_hup = 0;
			struct rs_paths *paths = malloc(sizeof(*paths));
			bool ok = paths != NULL && reload_ct_params(dp, &c, paths);
			rp_pktlog_reopen(); /* after a log rotation */
			if (ok)
				reload_rules(&env, &c, paths);
			else
				reload_done(false); /* the metrics and show version say so */
			if (paths == NULL)
				RP_ERR("main", "SIGHUP: out of memory: nothing reloaded");
			free(paths);
		}
		if (g_dump) {
			g_dump = 0;
			dp_stats_print(dp, stderr);
			dump_rules(dp);
		}
		n += (unsigned)rp_ctl_poll(ctl);
		rp_ctl_tick(&env);
		n += (unsigned)rp_metrics_poll(metrics);
		if (n == 0)
			rp_metrics_wait(metrics, 1000); /* 1 ms, less when a scrape is going on */
	}
	RP_NOTICE("main", "stopping");
	dp_stop(dp);
	rp_ctl_env_release(&env);
	dp_stats_print(dp, stderr);
	rc = 0;
out:
	rp_ctl_close(ctl);
	rp_metrics_close(metrics);
	rules_free(rs);
	dp_destroy(dp);
	rte_eal_cleanup();
	cfg_free(&c);
	if (rc == 0)
		RP_NOTICE("main", "stopped");
	return rc;
}
