/* kernel/topology.c: the sibling, core and package masks, built once every CPU has
 * reported its package/core/thread ids, and the boot log line that describes them. */
#include <kernel/cpu.h>
#include <kernel/printk.h>
#include <kernel/topology.h>

void topology_init(void)
{
	unsigned packages = 0, cores = 0, nodes = 0;

	for (unsigned i = 0; i < ncpus; i++) {
		struct cpu *c = &cpus[i];
		bool first_in_core = true, first_in_package = true, first_in_node = true;
		c->siblings = c->package_mates = (cpumask_t){ 0 };
		for (unsigned j = 0; j < ncpus; j++) {
			struct cpu *o = &cpus[j];
			if (o->package == c->package) {
				cpumask_set(&c->package_mates, j);
				if (j < i)
					first_in_package = false;
				if (o->core == c->core) {
					cpumask_set(&c->siblings, j);
					if (j < i)
						first_in_core = false;
				}
			}
			if (o->node == c->node && j < i)
				first_in_node = false;
		}
		c->core_mates = c->siblings;
		packages += first_in_package;
		cores += first_in_core;
		nodes += first_in_node;
	}
	printk("wisp: topology: %u sockets, %u cores per socket, %u threads per core, "
	       "%u NUMA nodes\n", packages, cores / (packages ? packages : 1),
	       ncpus / (cores ? cores : 1), nodes);
}
