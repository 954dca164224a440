/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * rp_cpu: the pause of a bounded spin on a shared slot that another core is
 * filling (the helpers' expectations, the -m recent lists). No DPDK: the
 * libraries that spin are built and tested without it.
 */
#ifndef RP_CPU_H
#define RP_CPU_H

static inline void rp_cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#elif defined(__aarch64__)
	__asm__ volatile("yield");
#endif
}

#endif
