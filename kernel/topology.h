/* kernel/topology.h: CPU topology masks (kernel/topology.c); ids per CPU live in
 * struct cpu (package, core, thread, node) and come from the architecture. */
#pragma once

void topology_init(void);	/* boot CPU, after every CPU is online */
