/* SPDX-License-Identifier: BSD-3-Clause */
/* rampartctl's parts: the command dispatcher and the interactive shell. */
#ifndef RP_RAMPARTCTL_H
#define RP_RAMPARTCTL_H

/* Run one command (argv[0]: the first word after rampartctl's options);
 * returns its exit status. */
int ctl_dispatch(int argc, char **argv);
/* Send a request and capture its answer's text (caller frees *text);
 * messages are not printed. Returns the exit status. */
int ctl_capture(int argc, char **argv, char **text);
/* The interactive shell (no command given): returns the exit status. */
int ctl_shell(void);

#endif
