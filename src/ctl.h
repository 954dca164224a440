/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ctl: rampartd's control socket (rampartctl's other end).
 *
 * A UNIX stream socket (control.socket, /run/rampart/rampart.sock by
 * default, mode 0660). A client sends one request line (words separated by
 * blanks, at most 4 KiB) and reads the answer until the server closes:
 * text lines, then a last line "%% ok[ message]" or "%% error: message".
 * Served by the control thread between its other duties, one client at a
 * time; a client gets 1 s to send its request and 5 s per write.
 */
#ifndef RP_CTL_H
#define RP_CTL_H

struct dp_ctx;
struct rp_ctl;

/* Listen on path (its directory is created if missing); NULL on error
 * (logged). */
struct rp_ctl *rp_ctl_open(const char *path);
/* Serve at most one waiting client. Returns 1 if one was served. */
int rp_ctl_poll(struct rp_ctl *c, struct dp_ctx *dp);
void rp_ctl_close(struct rp_ctl *c);

/* Execute one request line, writing the answer (with its last line) to
 * out; also used by tests. */
#include <stdio.h>
void rp_ctl_exec(struct dp_ctx *dp, char *line, FILE *out);

#endif
