/* arch/x86_64/topology.c: where this CPU sits: package, core, SMT thread.
 * CPUID leaf 1FH or 0BH, "Extended Topology Enumeration" (SDM Vol. 2A CPUID; Vol. 3A
 * §9.9.1): each sub-leaf gives a level type in ECX[15:8] (1 SMT, 2 core) and in
 * EAX[4:0] "the number of bits to shift right on x2APIC ID to get a unique topology
 * ID of the next level type"; EDX is the x2APIC id.  Without it the APIC id is split
 * with CPUID 01H EBX[23:16] (addressable logical processors per package) and, on AMD,
 * 8000001EH EBX[15:8] (threads per core minus one); Intel's leaf 04H EAX[31:26] gives
 * cores per package. */
#include <arch/arch.h>
#include <arch/x86.h>
#include <kernel/cpu.h>

static unsigned bits_for(uint32_t n)
{
	unsigned b = 0;
	while ((1u << b) < n)
		b++;
	return b;
}

/* Shift widths from leaf 0BH/1FH; false if the leaf is absent or says nothing. */
static bool from_extended_leaf(uint32_t leaf, unsigned *smt_bits, unsigned *pkg_bits,
			       uint32_t *x2id)
{
	uint32_t a, b, c, d, max;

	cpuid(0, 0, &max, &b, &c, &d);
	if (max < leaf)
		return false;
	bool smt = false, core = false;
	for (uint32_t sub = 0; sub < 8; sub++) {
		cpuid(leaf, sub, &a, &b, &c, &d);
		uint32_t type = (c >> 8) & 0xff;
		if (type == 0)
			break;
		*x2id = d;
		if (type == 1) {
			*smt_bits = a & 0x1f;
			smt = true;
		} else {
			*pkg_bits = a & 0x1f;	/* core, module, die...: the last one wins */
			core = true;
		}
	}
	return smt && core;
}

static void from_legacy(struct cpu *c, unsigned *smt_bits, unsigned *pkg_bits)
{
	uint32_t a, b, cx, d, max, vendor_b;

	cpuid(0, 0, &max, &vendor_b, &cx, &d);
	cpuid(1, 0, &a, &b, &cx, &d);
	uint32_t logical = (d & (1u << 28)) ? (b >> 16) & 0xff : 1;	/* HTT */
	uint32_t cores = 1;
	if (vendor_b == 0x756e6547 && max >= 4) {		/* "Genu"ineIntel */
		cpuid(4, 0, &a, &b, &cx, &d);
		cores = (a >> 26) + 1;
	} else {
		cpuid(0x80000000, 0, &a, &b, &cx, &d);
		if (a >= 0x80000008) {
			cpuid(0x80000008, 0, &a, &b, &cx, &d);
			cores = (cx & 0xff) + 1;		/* AMD: NC, threads per package */
			if (a >= 0x8000001e) {
				cpuid(0x8000001e, 0, &a, &b, &cx, &d);
				uint32_t tpc = ((b >> 8) & 0xff) + 1;
				cores = cores / tpc ? cores / tpc : 1;
			}
		}
	}
	uint32_t threads = logical / cores ? logical / cores : 1;
	*smt_bits = bits_for(threads);
	*pkg_bits = bits_for(logical ? logical : 1);
}

void topology_detect(struct cpu *c)
{
	unsigned smt_bits = 0, pkg_bits = 0;
	uint32_t id = c->arch.apic_id;

	if (!from_extended_leaf(0x1f, &smt_bits, &pkg_bits, &id) &&
	    !from_extended_leaf(0x0b, &smt_bits, &pkg_bits, &id)) {
		from_legacy(c, &smt_bits, &pkg_bits);
		id = c->arch.apic_id;
	}
	c->thread = id & ((1u << smt_bits) - 1);
	c->core = (id >> smt_bits) & ((1u << (pkg_bits - smt_bits)) - 1);
	c->package = pkg_bits >= 32 ? 0 : id >> pkg_bits;
}
