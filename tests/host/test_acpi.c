/* tests/host/test_acpi.c: the ACPI table parser on synthetic firmware tables.  map()
 * hands the parser a malloc'd copy of exactly the bytes it asked for, so ASan catches
 * any read past what it mapped. */
#include "htest.h"
#include <arch/acpi.h>

#include <stdlib.h>

#define FW_BASE		0x7fe0000u	/* physical address of fw.mem[0] */
#define FW_SIZE		(64 * 1024)
#define MAX_MAPS	256
#define EINVAL_NEG	(-22)

struct fw {
	uint8_t mem[FW_SIZE];
	size_t top;
	void *maps[MAX_MAPS];
	int nmaps;
};

/* A table being built; fw_place() fills in its length and checksum. */
struct tbl {
	uint8_t b[2048];
	uint32_t len;
};

static void wr16(uint8_t *p, uint16_t v) { memcpy(p, &v, 2); }
static void wr32(uint8_t *p, uint32_t v) { memcpy(p, &v, 4); }
static void wr64(uint8_t *p, uint64_t v) { memcpy(p, &v, 8); }
static uint32_t rd32(const uint8_t *p) { uint32_t v; memcpy(&v, p, 4); return v; }

static uint8_t sum(const uint8_t *p, size_t n)
{
	uint8_t s = 0;
	while (n--)
		s += *p++;
	return s;
}

static const void *fw_map(uint64_t pa, size_t len, void *ctx)
{
	struct fw *f = ctx;

	if (pa < FW_BASE || pa - FW_BASE > FW_SIZE || len > FW_SIZE - (pa - FW_BASE) ||
	    f->nmaps == MAX_MAPS)
		return NULL;
	void *copy = malloc(len);
	memcpy(copy, f->mem + (pa - FW_BASE), len);
	f->maps[f->nmaps++] = copy;
	return copy;
}

static void fw_unmap_all(struct fw *f)
{
	while (f->nmaps)
		free(f->maps[--f->nmaps]);
}

static struct fw *fw_new(void)
{
	struct fw *f = calloc(1, sizeof(*f));
	f->top = 64;	/* keep pa FW_BASE+0 unused */
	return f;
}

static void fw_free(struct fw *f)
{
	fw_unmap_all(f);
	free(f);
}

static uint8_t *fw_at(struct fw *f, uint64_t pa)
{
	return f->mem + (pa - FW_BASE);
}

/* Recomputes the checksum of the table at pa after a test changed it. */
static void fw_fix_sum(struct fw *f, uint64_t pa)
{
	uint8_t *t = fw_at(f, pa);
	uint32_t len = rd32(t + 4);

	if (len < 10 || len > FW_SIZE - (pa - FW_BASE))
		return;
	t[9] = 0;
	t[9] = (uint8_t)-sum(t, len);
}

/* Copies bytes into firmware memory at the next free address, 4 past a multiple of
 * 16 so that no table is 8-byte aligned. */
static uint64_t fw_put(struct fw *f, const void *p, size_t n)
{
	uint64_t pa = FW_BASE + f->top;

	memcpy(f->mem + f->top, p, n);
	f->top += (n + 15) / 16 * 16 + 4;
	return pa;
}

static void tbl_start(struct tbl *t, const char *sig)
{
	memset(t, 0, sizeof(*t));
	memcpy(t->b, sig, 4);
	t->b[8] = 1;			/* revision */
	memcpy(t->b + 10, "WISPFW", 6);	/* OEM id */
	memcpy(t->b + 16, "SYNTHTBL", 8);	/* OEM table id */
	t->len = 36;
}

static void tbl_add(struct tbl *t, const void *p, size_t n)
{
	memcpy(t->b + t->len, p, n);
	t->len += (uint32_t)n;
}

static uint64_t fw_place(struct fw *f, struct tbl *t)
{
	wr32(t->b + 4, t->len);
	t->b[9] = 0;
	t->b[9] = (uint8_t)-sum(t->b, t->len);
	return fw_put(f, t->b, t->len);
}

static uint64_t fw_rsdt(struct fw *f, const uint64_t *pas, int n)
{
	struct tbl t;

	tbl_start(&t, "RSDT");
	for (int i = 0; i < n; i++) {
		uint8_t e[4];
		wr32(e, (uint32_t)pas[i]);
		tbl_add(&t, e, 4);
	}
	return fw_place(f, &t);
}

static uint64_t fw_xsdt(struct fw *f, const uint64_t *pas, int n)
{
	struct tbl t;

	tbl_start(&t, "XSDT");
	for (int i = 0; i < n; i++) {
		uint8_t e[8];
		wr64(e, pas[i]);
		tbl_add(&t, e, 8);
	}
	return fw_place(f, &t);
}

/* An RSDP of revision rev in r (36 bytes); returns its length. */
static size_t make_rsdp(uint8_t *r, int rev, uint64_t rsdt, uint64_t xsdt)
{
	memset(r, 0, 36);
	memcpy(r, "RSD PTR ", 8);
	memcpy(r + 9, "WISPFW", 6);
	r[15] = (uint8_t)rev;
	wr32(r + 16, (uint32_t)rsdt);
	r[8] = (uint8_t)-sum(r, 20);
	if (rev < 2)
		return 20;
	wr32(r + 20, 36);
	wr64(r + 24, xsdt);
	r[32] = (uint8_t)-sum(r, 36);
	return 36;
}

/* MADT pieces (ACPI 6.x §5.2.12). */
static void madt_start(struct tbl *t, uint32_t lapic, uint32_t flags)
{
	uint8_t h[8];

	tbl_start(t, "APIC");
	wr32(h, lapic);
	wr32(h + 4, flags);
	tbl_add(t, h, 8);
}

static void madt_lapic(struct tbl *t, uint8_t uid, uint8_t apic_id, uint32_t flags)
{
	uint8_t e[8] = { 0, 8, uid, apic_id };
	wr32(e + 4, flags);
	tbl_add(t, e, 8);
}

static void madt_ioapic(struct tbl *t, uint8_t id, uint32_t addr, uint32_t gsi_base)
{
	uint8_t e[12] = { 1, 12, id, 0 };
	wr32(e + 4, addr);
	wr32(e + 8, gsi_base);
	tbl_add(t, e, 12);
}

static void madt_iso(struct tbl *t, uint8_t source, uint32_t gsi, uint16_t flags)
{
	uint8_t e[10] = { 2, 10, 0, source };
	wr32(e + 4, gsi);
	wr16(e + 8, flags);
	tbl_add(t, e, 10);
}

static void madt_lapic_override(struct tbl *t, uint64_t addr)
{
	uint8_t e[12] = { 5, 12 };
	wr64(e + 4, addr);
	tbl_add(t, e, 12);
}

static void madt_x2apic(struct tbl *t, uint32_t id, uint32_t flags, uint32_t uid)
{
	uint8_t e[16] = { 9, 16 };
	wr32(e + 4, id);
	wr32(e + 8, flags);
	wr32(e + 12, uid);
	tbl_add(t, e, 16);
}

/* SRAT pieces (§5.2.16): entries from offset 48. */
static void srat_start(struct tbl *t)
{
	uint8_t h[12] = { 1 };	/* reserved, "must be 1" */

	tbl_start(t, "SRAT");
	tbl_add(t, h, 12);
}

static void srat_cpu(struct tbl *t, uint32_t domain, uint8_t apic_id, uint32_t flags)
{
	uint8_t e[16] = { 0, 16, (uint8_t)domain, apic_id };
	wr32(e + 4, flags);
	e[9] = (uint8_t)(domain >> 8);
	e[10] = (uint8_t)(domain >> 16);
	e[11] = (uint8_t)(domain >> 24);
	tbl_add(t, e, 16);
}

static void srat_mem(struct tbl *t, uint32_t domain, uint64_t base, uint64_t len,
		     uint32_t flags)
{
	uint8_t e[40] = { 1, 40 };
	wr32(e + 2, domain);
	wr32(e + 8, (uint32_t)base);
	wr32(e + 12, (uint32_t)(base >> 32));
	wr32(e + 16, (uint32_t)len);
	wr32(e + 20, (uint32_t)(len >> 32));
	wr32(e + 28, flags);
	tbl_add(t, e, 40);
}

static void srat_x2apic(struct tbl *t, uint32_t domain, uint32_t id, uint32_t flags)
{
	uint8_t e[24] = { 2, 24 };
	wr32(e + 4, domain);
	wr32(e + 8, id);
	wr32(e + 12, flags);
	tbl_add(t, e, 24);
}

/* HPET (IA-PC HPET 1.0a Table 3): 56 bytes. */
static uint64_t fw_hpet(struct fw *f, uint64_t addr, uint8_t space)
{
	struct tbl t;
	uint8_t b[20] = { 0 };

	tbl_start(&t, "HPET");
	wr32(b, 0x8086a201);	/* event timer block id */
	b[4] = space;
	b[5] = 64;		/* register bit width */
	wr64(b + 8, addr);
	tbl_add(&t, b, 20);
	return fw_place(f, &t);
}

/* A two-socket machine: 4 enabled CPUs (APIC ids 0, 1, 2 and x2APIC 300), one
 * disabled, one online-capable only; 2 I/O APICs, 2 overrides; nodes 0 and 1. */
struct machine {
	uint64_t madt, hpet, srat;
};

static struct machine std_tables(struct fw *f)
{
	struct machine m;
	struct tbl t;

	madt_start(&t, 0xfee00000, 1);
	madt_lapic(&t, 0, 0, 1);
	madt_lapic(&t, 1, 1, 1);
	madt_lapic(&t, 2, 4, 0);	/* disabled */
	madt_lapic(&t, 3, 2, 1);
	madt_lapic(&t, 4, 5, 2);	/* online capable, not enabled */
	madt_x2apic(&t, 1, 1, 11);	/* the same CPU as APIC id 1 */
	madt_x2apic(&t, 300, 1, 12);
	madt_x2apic(&t, 301, 0, 13);	/* disabled */
	madt_ioapic(&t, 8, 0xfec00000, 0);
	madt_ioapic(&t, 9, 0xfec01000, 24);
	madt_iso(&t, 0, 2, 0);
	madt_iso(&t, 9, 9, 0x000d);
	m.madt = fw_place(f, &t);

	m.hpet = fw_hpet(f, 0xfed00000, 0);

	srat_start(&t);
	srat_cpu(&t, 0, 0, 1);
	srat_cpu(&t, 0, 1, 1);
	srat_cpu(&t, 1, 2, 1);
	srat_x2apic(&t, 1, 300, 1);
	srat_mem(&t, 0, 0, 0xa0000, 1);
	srat_mem(&t, 0, 0x100000, 0x7ff00000, 1);
	srat_mem(&t, 1, 0x80000000, 0x80000000, 1);
	srat_mem(&t, 1, 0x100000000, 0x40000000, 3);	/* hot pluggable */
	srat_mem(&t, 1, 0x200000000, 0x40000000, 2);	/* not enabled */
	m.srat = fw_place(f, &t);
	return m;
}

/* Parses from a malloc'd copy of exactly len RSDP bytes. */
static int parse(struct fw *f, const uint8_t *rsdp, size_t len, struct acpi_info *info)
{
	uint8_t *copy = malloc(len ? len : 1);
	int r;

	memcpy(copy, rsdp, len);
	r = acpi_parse(copy, len, fw_map, f, info);
	free(copy);
	fw_unmap_all(f);
	return r;
}

static bool has_problem(const struct acpi_info *info, const char *msg)
{
	for (int i = 0; i < info->nproblems; i++)
		if (!strcmp(info->problems[i], msg))
			return true;
	return false;
}

static void print_problems(const struct acpi_info *info)
{
	for (int i = 0; i < info->nproblems; i++)
		printf("    problem: %s\n", info->problems[i]);
}

static const struct acpi_cpu *cpu_by_apic(const struct acpi_info *info, uint32_t id)
{
	for (int i = 0; i < info->ncpus; i++)
		if (info->cpus[i].apic_id == id)
			return &info->cpus[i];
	return NULL;
}

HTEST(acpi_rsdp_v1_rsdt)
{
	struct fw *f = fw_new();
	struct machine m = std_tables(f);
	uint64_t pas[] = { m.madt, m.hpet };
	uint8_t r[36];
	size_t n = make_rsdp(r, 0, fw_rsdt(f, pas, 2), 0);
	struct acpi_info info;

	CHECK_EQ(parse(f, r, n, &info), 0);
	print_problems(&info);
	CHECK_EQ(info.nproblems, 0);
	CHECK_EQ(info.revision, 0);
	CHECK(!info.xsdt_used);
	CHECK_STREQ(info.oem, "WISPFW");
	CHECK(info.madt_ok);
	CHECK_EQ(info.ncpus, 4);
	CHECK(info.hpet_ok);
	CHECK_EQ(info.hpet_addr, 0xfed00000);
	CHECK(!info.srat_ok);
	CHECK_EQ(info.nnodes, 1);
	for (int i = 0; i < info.ncpus; i++)
		CHECK_EQ(info.cpus[i].node, 0);
	fw_free(f);
}

HTEST(acpi_rsdp_v2_uses_xsdt)
{
	struct fw *f = fw_new();
	struct machine m = std_tables(f);
	struct tbl t;
	uint8_t r[36];
	struct acpi_info info;

	madt_start(&t, 0xfee00000, 0);		/* a one-CPU MADT only the RSDT names */
	madt_lapic(&t, 0, 0, 1);
	uint64_t small = fw_place(f, &t);
	uint64_t rpas[] = { small };
	uint64_t xpas[] = { m.srat, m.madt, m.hpet };
	size_t n = make_rsdp(r, 2, fw_rsdt(f, rpas, 1), fw_xsdt(f, xpas, 3));

	CHECK_EQ(n, 36);
	CHECK_EQ(parse(f, r, n, &info), 0);
	print_problems(&info);
	CHECK_EQ(info.nproblems, 0);
	CHECK_EQ(info.revision, 2);
	CHECK(info.xsdt_used);
	CHECK_EQ(info.ncpus, 4);
	CHECK(info.srat_ok);
	fw_free(f);
}

HTEST(acpi_xsdt_bad_falls_back_to_rsdt)
{
	struct fw *f = fw_new();
	struct machine m = std_tables(f);
	uint64_t pas[] = { m.madt };
	uint8_t r[36];
	struct acpi_info info;
	uint64_t xsdt = fw_xsdt(f, pas, 1);
	size_t n = make_rsdp(r, 2, fw_rsdt(f, pas, 1), xsdt);

	fw_at(f, xsdt)[9] ^= 1;
	CHECK_EQ(parse(f, r, n, &info), 0);
	CHECK(!info.xsdt_used);
	CHECK(has_problem(&info, "XSDT checksum bad"));
	CHECK_EQ(info.ncpus, 4);

	/* An XSDT address of 0 in a good revision 2 RSDP: the RSDT, silently. */
	n = make_rsdp(r, 2, fw_rsdt(f, pas, 1), 0);
	CHECK_EQ(parse(f, r, n, &info), 0);
	CHECK(!info.xsdt_used);
	CHECK_EQ(info.nproblems, 0);
	CHECK_EQ(info.ncpus, 4);
	fw_free(f);
}

HTEST(acpi_rsdp_v2_bad_extended_part)
{
	struct fw *f = fw_new();
	struct machine m = std_tables(f);
	uint64_t pas[] = { m.madt };
	uint8_t r[36];
	struct acpi_info info;
	size_t n = make_rsdp(r, 2, fw_rsdt(f, pas, 1), fw_xsdt(f, pas, 1));

	r[32] ^= 0x40;		/* extended checksum */
	CHECK_EQ(parse(f, r, n, &info), 0);
	CHECK(!info.xsdt_used);
	CHECK(has_problem(&info, "RSDP extended checksum bad"));
	CHECK_EQ(info.ncpus, 4);

	/* Revision 2 but only the 20 bytes of ACPI 1.0 available. */
	n = make_rsdp(r, 2, fw_rsdt(f, pas, 1), fw_xsdt(f, pas, 1));
	CHECK_EQ(parse(f, r, 20, &info), 0);
	CHECK(!info.xsdt_used);
	CHECK(has_problem(&info, "RSDP extended length bad"));

	/* A Length field larger than the bytes available. */
	wr32(r + 20, 4096);
	r[32] = 0;
	r[32] = (uint8_t)-sum(r, 36);
	CHECK_EQ(parse(f, r, n, &info), 0);
	CHECK(has_problem(&info, "RSDP extended length bad"));
	fw_free(f);
}

HTEST(acpi_madt_entries)
{
	struct fw *f = fw_new();
	struct machine m = std_tables(f);
	uint64_t pas[] = { m.madt };
	uint8_t r[36];
	struct acpi_info info;
	size_t n = make_rsdp(r, 0, fw_rsdt(f, pas, 1), 0);

	CHECK_EQ(parse(f, r, n, &info), 0);
	CHECK(info.madt_ok);
	CHECK_EQ(info.lapic_addr, 0xfee00000);
	CHECK(info.pcat_compat);
	CHECK_EQ(info.ncpus, 4);
	CHECK_EQ(info.cpus_dropped, 0);
	CHECK_EQ(info.cpus[0].apic_id, 0);
	CHECK_EQ(info.cpus[1].apic_id, 1);
	CHECK_EQ(info.cpus[1].uid, 1);		/* the type-0 entry came first */
	CHECK(!info.cpus[1].x2apic_entry);
	CHECK_EQ(info.cpus[2].apic_id, 2);
	CHECK_EQ(info.cpus[2].uid, 3);
	CHECK_EQ(info.cpus[3].apic_id, 300);
	CHECK_EQ(info.cpus[3].uid, 12);
	CHECK(info.cpus[3].x2apic_entry);
	CHECK(!cpu_by_apic(&info, 4));		/* disabled */
	CHECK(!cpu_by_apic(&info, 5));		/* online capable only */
	CHECK(!cpu_by_apic(&info, 301));

	CHECK_EQ(info.nioapics, 2);
	CHECK_EQ(info.ioapics[0].id, 8);
	CHECK_EQ(info.ioapics[0].addr, 0xfec00000);
	CHECK_EQ(info.ioapics[0].gsi_base, 0);
	CHECK_EQ(info.ioapics[1].id, 9);
	CHECK_EQ(info.ioapics[1].addr, 0xfec01000);
	CHECK_EQ(info.ioapics[1].gsi_base, 24);

	CHECK_EQ(info.noverrides, 2);
	CHECK_EQ(info.overrides[0].bus, 0);
	CHECK_EQ(info.overrides[0].source, 0);
	CHECK_EQ(info.overrides[0].gsi, 2);
	CHECK_EQ(info.overrides[0].flags, 0);
	CHECK_EQ(info.overrides[1].source, 9);
	CHECK_EQ(info.overrides[1].gsi, 9);
	CHECK_EQ(info.overrides[1].flags, 0x000d);
	CHECK_EQ(info.nproblems, 0);
	fw_free(f);
}

HTEST(acpi_madt_lapic_address_override)
{
	struct fw *f = fw_new();
	struct tbl t;
	uint8_t r[36];
	struct acpi_info info;

	madt_start(&t, 0xfee00000, 0);
	madt_lapic(&t, 0, 0, 1);
	madt_lapic_override(&t, 0x1234fee00000ull);
	uint64_t pas[] = { fw_place(f, &t) };
	size_t n = make_rsdp(r, 0, fw_rsdt(f, pas, 1), 0);

	CHECK_EQ(parse(f, r, n, &info), 0);
	CHECK_EQ(info.lapic_addr, 0x1234fee00000ull);
	CHECK(!info.pcat_compat);
	CHECK_EQ(info.ncpus, 1);
	CHECK_EQ(info.noverrides, 0);
	fw_free(f);
}

HTEST(acpi_hpet)
{
	struct fw *f = fw_new();
	uint8_t r[36];
	struct acpi_info info;
	uint64_t pas[] = { fw_hpet(f, 0xfed00000, 1) };	/* system I/O space */
	size_t n = make_rsdp(r, 0, fw_rsdt(f, pas, 1), 0);

	CHECK_EQ(parse(f, r, n, &info), 0);
	CHECK(!info.hpet_ok);
	CHECK(has_problem(&info, "HPET not in system memory space"));
	CHECK(has_problem(&info, "MADT missing"));

	pas[0] = fw_hpet(f, 0x00000000fed00000ull, 0);
	n = make_rsdp(r, 0, fw_rsdt(f, pas, 1), 0);
	CHECK_EQ(parse(f, r, n, &info), 0);
	CHECK(info.hpet_ok);
	CHECK_EQ(info.hpet_addr, 0xfed00000);

	pas[0] = fw_hpet(f, 0, 0);
	n = make_rsdp(r, 0, fw_rsdt(f, pas, 1), 0);
	CHECK_EQ(parse(f, r, n, &info), 0);
	CHECK(!info.hpet_ok);
	CHECK(has_problem(&info, "HPET base address is 0"));

	/* Cut before the 64-bit address ends: 48 bytes, checksum mended. */
	struct tbl t;
	memcpy(t.b, fw_at(f, fw_hpet(f, 0xfed00000, 0)), 56);
	t.len = 48;
	pas[0] = fw_place(f, &t);
	n = make_rsdp(r, 0, fw_rsdt(f, pas, 1), 0);
	CHECK_EQ(parse(f, r, n, &info), 0);
	CHECK(!info.hpet_ok);
	CHECK(has_problem(&info, "HPET too short"));
	fw_free(f);
}

HTEST(acpi_srat_nodes)
{
	struct fw *f = fw_new();
	struct machine m = std_tables(f);
	uint64_t pas[] = { m.srat, m.hpet, m.madt };	/* SRAT before MADT */
	uint8_t r[36];
	struct acpi_info info;
	size_t n = make_rsdp(r, 0, fw_rsdt(f, pas, 3), 0);

	CHECK_EQ(parse(f, r, n, &info), 0);
	print_problems(&info);
	CHECK_EQ(info.nproblems, 0);
	CHECK(info.srat_ok);
	CHECK_EQ(info.nnodes, 2);
	CHECK_EQ(cpu_by_apic(&info, 0)->node, 0);
	CHECK_EQ(cpu_by_apic(&info, 1)->node, 0);
	CHECK_EQ(cpu_by_apic(&info, 2)->node, 1);
	CHECK_EQ(cpu_by_apic(&info, 300)->node, 1);

	CHECK_EQ(info.nmem, 4);
	CHECK_EQ(info.mem[0].base, 0);
	CHECK_EQ(info.mem[0].len, 0xa0000);
	CHECK_EQ(info.mem[0].node, 0);
	CHECK_EQ(info.mem[1].base, 0x100000);
	CHECK_EQ(info.mem[1].len, 0x7ff00000);
	CHECK_EQ(info.mem[2].base, 0x80000000);
	CHECK_EQ(info.mem[2].len, 0x80000000);
	CHECK_EQ(info.mem[2].node, 1);
	CHECK(!info.mem[2].hotplug);
	CHECK_EQ(info.mem[3].base, 0x100000000);
	CHECK_EQ(info.mem[3].len, 0x40000000);
	CHECK(info.mem[3].hotplug);
	fw_free(f);
}

HTEST(acpi_srat_domain_high_bits)
{
	struct fw *f = fw_new();
	struct tbl t;
	uint8_t r[36];
	struct acpi_info info;

	madt_start(&t, 0xfee00000, 0);
	madt_lapic(&t, 0, 0, 1);
	madt_lapic(&t, 1, 1, 1);
	uint64_t madt = fw_place(f, &t);
	srat_start(&t);
	srat_cpu(&t, 0x101, 0, 1);	/* domain bits 31:8 are bytes 9..11 */
	srat_cpu(&t, 3, 1, 1);
	uint64_t pas[] = { madt, fw_place(f, &t) };
	size_t n = make_rsdp(r, 0, fw_rsdt(f, pas, 2), 0);

	CHECK_EQ(parse(f, r, n, &info), 0);
	CHECK(has_problem(&info, "SRAT entry at offset 48 proximity domain too large"));
	CHECK_EQ(cpu_by_apic(&info, 0)->node, 0);
	CHECK_EQ(cpu_by_apic(&info, 1)->node, 3);
	CHECK_EQ(info.nnodes, 4);
	fw_free(f);
}

HTEST(acpi_srat_bad_entries)
{
	struct fw *f = fw_new();
	struct tbl t;
	uint8_t r[36];
	struct acpi_info info;
	uint8_t shortmem[16] = { 1, 16 };

	srat_start(&t);
	srat_mem(&t, 0, 0xffffffff00000000ull, 0x200000000ull, 1);	/* offset 48 */
	srat_mem(&t, 0, 0x100000, 0x100000, 1);
	tbl_add(&t, shortmem, 16);	/* offset 128, last: flags would lie past the end */
	uint64_t pas[] = { fw_place(f, &t) };
	size_t n = make_rsdp(r, 0, fw_rsdt(f, pas, 1), 0);

	CHECK_EQ(parse(f, r, n, &info), 0);
	CHECK(info.srat_ok);
	CHECK_EQ(info.nmem, 1);
	CHECK_EQ(info.mem[0].base, 0x100000);
	CHECK(has_problem(&info, "SRAT entry at offset 48 wraps the address space"));
	CHECK(has_problem(&info, "SRAT entry at offset 128 too short for its type"));

	/* Too short for its own fixed fields. */
	tbl_start(&t, "SRAT");
	tbl_add(&t, "\1\0\0\0", 4);
	pas[0] = fw_place(f, &t);
	n = make_rsdp(r, 0, fw_rsdt(f, pas, 1), 0);
	CHECK_EQ(parse(f, r, n, &info), 0);
	CHECK(!info.srat_ok);
	CHECK(has_problem(&info, "SRAT too short"));
	fw_free(f);
}

HTEST(acpi_bad_rsdp)
{
	struct fw *f = fw_new();
	struct machine m = std_tables(f);
	uint64_t pas[] = { m.madt };
	uint8_t r[36];
	struct acpi_info info;
	size_t n = make_rsdp(r, 0, fw_rsdt(f, pas, 1), 0);

	r[8] ^= 1;
	CHECK_EQ(parse(f, r, n, &info), EINVAL_NEG);
	CHECK(has_problem(&info, "RSDP checksum bad"));
	CHECK_EQ(info.ncpus, 0);
	CHECK(!info.madt_ok);

	n = make_rsdp(r, 0, fw_rsdt(f, pas, 1), 0);
	r[0] = 'X';
	CHECK_EQ(parse(f, r, n, &info), EINVAL_NEG);
	CHECK(has_problem(&info, "RSDP signature bad"));

	n = make_rsdp(r, 0, fw_rsdt(f, pas, 1), 0);
	CHECK_EQ(parse(f, r, 19, &info), EINVAL_NEG);
	CHECK(has_problem(&info, "RSDP too short"));

	n = make_rsdp(r, 0, 0, 0);
	CHECK_EQ(parse(f, r, n, &info), EINVAL_NEG);
	CHECK(has_problem(&info, "RSDP names no root table"));
	fw_free(f);
}

HTEST(acpi_bad_rsdt_checksum)
{
	struct fw *f = fw_new();
	struct machine m = std_tables(f);
	uint64_t pas[] = { m.madt };
	uint8_t r[36];
	struct acpi_info info;
	uint64_t rsdt = fw_rsdt(f, pas, 1);
	size_t n = make_rsdp(r, 0, rsdt, 0);

	fw_at(f, rsdt)[36] ^= 0x80;
	CHECK_EQ(parse(f, r, n, &info), EINVAL_NEG);
	CHECK(has_problem(&info, "RSDT checksum bad"));
	CHECK_EQ(info.ncpus, 0);

	/* The RSDP pointing at something that is not an RSDT. */
	n = make_rsdp(r, 0, m.madt, 0);
	CHECK_EQ(parse(f, r, n, &info), EINVAL_NEG);
	CHECK(has_problem(&info, "RSDT signature bad"));

	/* Or at memory that cannot be mapped. */
	n = make_rsdp(r, 0, 0x1000, 0);
	CHECK_EQ(parse(f, r, n, &info), EINVAL_NEG);
	CHECK(has_problem(&info, "RSDT cannot be mapped"));
	fw_free(f);
}

HTEST(acpi_rsdt_length_absurd)
{
	static const struct {
		uint32_t len;
		const char *problem;
	} cases[] = {
		{ 0, "RSDT length bad" },
		{ 35, "RSDT length bad" },
		{ 0xffffffff, "RSDT length bad" },
		{ (1u << 20) + 1, "RSDT length bad" },
		{ FW_SIZE - 64, "RSDT cannot be mapped" },	/* sane, but past memory */
		{ 37, "RSDT checksum bad" },
	};
	struct fw *f = fw_new();
	struct machine m = std_tables(f);
	uint64_t pas[] = { m.madt };
	uint8_t r[36];
	struct acpi_info info;
	uint64_t rsdt = fw_rsdt(f, pas, 1);
	size_t n = make_rsdp(r, 0, rsdt, 0);

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		wr32(fw_at(f, rsdt) + 4, cases[i].len);
		CHECK_EQ(parse(f, r, n, &info), EINVAL_NEG);
		CHECK_EQ(info.ncpus, 0);
		CHECK_EQ(info.nproblems, 1);
		CHECK_STREQ(info.problems[0], cases[i].problem);
	}
	fw_free(f);
}

HTEST(acpi_bad_madt_checksum)
{
	struct fw *f = fw_new();
	struct machine m = std_tables(f);
	uint64_t pas[] = { m.madt, m.hpet, m.srat };
	uint8_t r[36];
	struct acpi_info info;
	size_t n = make_rsdp(r, 0, fw_rsdt(f, pas, 3), 0);

	fw_at(f, m.madt)[50] ^= 1;
	CHECK_EQ(parse(f, r, n, &info), 0);
	CHECK(!info.madt_ok);
	CHECK_EQ(info.ncpus, 0);
	CHECK_EQ(info.nioapics, 0);
	CHECK(has_problem(&info, "MADT checksum bad"));
	CHECK_EQ(info.nproblems, 1);
	CHECK(info.hpet_ok);
	CHECK(info.srat_ok);
	CHECK_EQ(info.nmem, 4);
	CHECK_EQ(info.nnodes, 2);
	fw_free(f);
}

HTEST(acpi_madt_entry_length_zero)
{
	struct fw *f = fw_new();
	struct tbl t;
	uint8_t r[36];
	struct acpi_info info;
	uint8_t bad[2] = { 0, 0 };

	madt_start(&t, 0xfee00000, 0);
	madt_lapic(&t, 0, 0, 1);		/* offset 44 */
	tbl_add(&t, bad, 2);			/* offset 52: would loop forever */
	madt_lapic(&t, 1, 1, 1);
	uint64_t pas[] = { fw_place(f, &t) };
	size_t n = make_rsdp(r, 0, fw_rsdt(f, pas, 1), 0);

	CHECK_EQ(parse(f, r, n, &info), 0);
	CHECK(info.madt_ok);
	CHECK_EQ(info.ncpus, 1);
	CHECK(has_problem(&info, "MADT entry at offset 52 has length 0"));

	madt_start(&t, 0xfee00000, 0);
	bad[1] = 1;
	tbl_add(&t, bad, 2);
	pas[0] = fw_place(f, &t);
	n = make_rsdp(r, 0, fw_rsdt(f, pas, 1), 0);
	CHECK_EQ(parse(f, r, n, &info), 0);
	CHECK(has_problem(&info, "MADT entry at offset 44 has length 1"));
	fw_free(f);
}

HTEST(acpi_madt_entry_past_end)
{
	struct fw *f = fw_new();
	struct tbl t;
	uint8_t r[36];
	struct acpi_info info;

	madt_start(&t, 0xfee00000, 0);
	madt_lapic(&t, 0, 0, 1);		/* offset 44 */
	madt_x2apic(&t, 7, 1, 7);		/* offset 52, 16 bytes: cut to 12 */
	t.len -= 4;
	uint64_t pas[] = { fw_place(f, &t) };
	size_t n = make_rsdp(r, 0, fw_rsdt(f, pas, 1), 0);

	CHECK_EQ(parse(f, r, n, &info), 0);
	CHECK_EQ(info.ncpus, 1);
	CHECK(has_problem(&info, "MADT entry at offset 52 runs past the table end"));

	/* One lone byte after the last entry. */
	madt_start(&t, 0xfee00000, 0);
	madt_lapic(&t, 0, 0, 1);
	tbl_add(&t, "\x09", 1);
	pas[0] = fw_place(f, &t);
	n = make_rsdp(r, 0, fw_rsdt(f, pas, 1), 0);
	CHECK_EQ(parse(f, r, n, &info), 0);
	CHECK_EQ(info.ncpus, 1);
	CHECK(has_problem(&info, "MADT entry at offset 52 is cut off by the table end"));

	/* An entry long enough for the table but too short for its type. */
	uint8_t shortx2[8] = { 9, 8 };
	madt_start(&t, 0xfee00000, 0);
	tbl_add(&t, shortx2, 8);
	madt_lapic(&t, 0, 3, 1);
	pas[0] = fw_place(f, &t);
	n = make_rsdp(r, 0, fw_rsdt(f, pas, 1), 0);
	CHECK_EQ(parse(f, r, n, &info), 0);
	CHECK_EQ(info.ncpus, 1);
	CHECK_EQ(info.cpus[0].apic_id, 3);
	CHECK(has_problem(&info, "MADT entry at offset 44 too short for its type"));
	fw_free(f);
}

HTEST(acpi_too_many_cpus)
{
	struct fw *f = fw_new();
	struct tbl t;
	uint8_t r[36];
	struct acpi_info info;

	madt_start(&t, 0xfee00000, 0);
	for (int i = 0; i < 70; i++)
		madt_lapic(&t, (uint8_t)i, (uint8_t)i, 1);
	for (int i = 0; i < 10; i++)
		madt_lapic(&t, (uint8_t)(100 + i), (uint8_t)(100 + i), 0);	/* disabled */
	madt_x2apic(&t, 500, 1, 500);
	uint64_t pas[] = { fw_place(f, &t) };
	size_t n = make_rsdp(r, 0, fw_rsdt(f, pas, 1), 0);

	CHECK_EQ(parse(f, r, n, &info), 0);
	CHECK_EQ(info.ncpus, ACPI_MAX_CPUS);
	CHECK_EQ(info.cpus_dropped, 7);
	CHECK_EQ(info.cpus[63].apic_id, 63);
	fw_free(f);
}

HTEST(acpi_too_many_ioapics_and_problems)
{
	struct fw *f = fw_new();
	struct tbl t;
	uint8_t r[36];
	struct acpi_info info;
	uint8_t shortx2[8] = { 9, 8 };

	madt_start(&t, 0xfee00000, 0);
	for (int i = 0; i < 10; i++)
		madt_ioapic(&t, (uint8_t)i, 0xfec00000 + 0x1000u * (uint32_t)i, 24u * (uint32_t)i);
	for (int i = 0; i < 12; i++)
		tbl_add(&t, shortx2, 8);	/* one problem each */
	uint64_t pas[] = { fw_place(f, &t) };
	size_t n = make_rsdp(r, 0, fw_rsdt(f, pas, 1), 0);

	CHECK_EQ(parse(f, r, n, &info), 0);
	CHECK_EQ(info.nioapics, ACPI_MAX_IOAPICS);
	CHECK_EQ(info.ioapics[7].gsi_base, 7 * 24);
	CHECK_STREQ(info.problems[0], "MADT has too many I/O APICs, extra ignored");
	CHECK_EQ(info.nproblems, ACPI_MAX_PROBLEMS);
	CHECK_EQ(info.problems_dropped, 12 + 1 - ACPI_MAX_PROBLEMS);
	fw_free(f);
}

HTEST(acpi_too_many_overrides_and_ranges)
{
	struct fw *f = fw_new();
	struct tbl t;
	uint8_t r[36];
	struct acpi_info info;

	madt_start(&t, 0xfee00000, 0);
	for (int i = 0; i < 20; i++)
		madt_iso(&t, (uint8_t)i, 100u + (uint32_t)i, 0);
	uint64_t madt = fw_place(f, &t);
	srat_start(&t);
	for (int i = 0; i < 40; i++)
		srat_mem(&t, 0, 0x100000000ull * (uint64_t)i, 0x1000, 1);
	uint64_t pas[] = { madt, fw_place(f, &t) };
	size_t n = make_rsdp(r, 0, fw_rsdt(f, pas, 2), 0);

	CHECK_EQ(parse(f, r, n, &info), 0);
	CHECK_EQ(info.noverrides, ACPI_MAX_OVERRIDES);
	CHECK_EQ(info.overrides[ACPI_MAX_OVERRIDES - 1].gsi, 100 + ACPI_MAX_OVERRIDES - 1);
	CHECK_EQ(info.nmem, ACPI_MAX_MEMRANGES);
	CHECK_EQ(info.mem[ACPI_MAX_MEMRANGES - 1].base,
		 0x100000000ull * (ACPI_MAX_MEMRANGES - 1));
	CHECK_EQ(info.nnodes, 1);
	CHECK(has_problem(&info, "MADT has too many overrides, extra ignored"));
	CHECK(has_problem(&info, "SRAT has too many memory ranges, extra ignored"));
	CHECK_EQ(info.nproblems, 2);
	fw_free(f);
}

HTEST(acpi_missing_madt)
{
	struct fw *f = fw_new();
	struct machine m = std_tables(f);
	uint64_t pas[] = { m.hpet, m.srat };
	uint8_t r[36];
	struct acpi_info info;
	size_t n = make_rsdp(r, 0, fw_rsdt(f, pas, 2), 0);

	CHECK_EQ(parse(f, r, n, &info), 0);
	CHECK(!info.madt_ok);
	CHECK_EQ(info.ncpus, 0);
	CHECK(has_problem(&info, "MADT missing"));
	CHECK(info.hpet_ok);
	CHECK(info.srat_ok);
	CHECK_EQ(info.nnodes, 2);

	/* No entries at all. */
	n = make_rsdp(r, 0, fw_rsdt(f, pas, 0), 0);
	CHECK_EQ(parse(f, r, n, &info), 0);
	CHECK(!info.madt_ok);
	CHECK_EQ(info.nnodes, 1);
	fw_free(f);
}

HTEST(acpi_root_entry_unmappable)
{
	struct fw *f = fw_new();
	struct machine m = std_tables(f);
	uint64_t pas[] = { m.hpet, 0xdead0000, 0, m.madt };
	uint8_t r[36];
	struct acpi_info info;
	size_t n = make_rsdp(r, 0, fw_rsdt(f, pas, 4), 0);

	CHECK_EQ(parse(f, r, n, &info), 0);
	CHECK(has_problem(&info, "RSDT entry at offset 40 cannot be mapped"));
	CHECK(has_problem(&info, "RSDT entry at offset 44 cannot be mapped"));
	CHECK(info.madt_ok);
	CHECK_EQ(info.ncpus, 4);
	CHECK(info.hpet_ok);

	/* A MADT whose header maps but whose Length runs off the end of memory. */
	uint64_t madt = fw_put(f, fw_at(f, m.madt), 36);
	wr32(fw_at(f, madt) + 4, FW_SIZE);
	pas[1] = madt;
	pas[2] = m.madt;	/* a second MADT is ignored */
	n = make_rsdp(r, 0, fw_rsdt(f, pas, 3), 0);
	CHECK_EQ(parse(f, r, n, &info), 0);
	CHECK(has_problem(&info, "MADT cannot be mapped"));
	CHECK(has_problem(&info, "MADT listed twice, first used"));
	CHECK(!info.madt_ok);
	fw_free(f);
}

/* Random corruption of every table, checksums mended half the time so that the
 * parser reaches the entries: it must never read outside its maps (ASan), never
 * hang, and keep every count within its array. */
HTEST(acpi_random_corruption)
{
	struct fw *f = fw_new();
	struct machine m = std_tables(f);
	uint64_t pas[] = { m.srat, m.madt, m.hpet };
	uint64_t xsdt = fw_xsdt(f, pas, 3), rsdt = fw_rsdt(f, pas, 3);
	uint64_t all[] = { m.madt, m.hpet, m.srat, xsdt, rsdt };
	uint8_t *pristine = malloc(FW_SIZE);
	size_t used = f->top;
	uint8_t r[36], r0[36];
	struct acpi_info info;
	size_t n = make_rsdp(r0, 2, rsdt, xsdt);

	memcpy(pristine, f->mem, FW_SIZE);
	srand(11);
	for (int iter = 0; iter < 3000; iter++) {
		memcpy(f->mem, pristine, FW_SIZE);
		memcpy(r, r0, sizeof(r));
		int flips = 1 + rand() % 8;
		for (int k = 0; k < flips; k++) {
			size_t at = 64 + (size_t)rand() % (used - 64);
			f->mem[at] = (uint8_t)(rand() % 3 ? rand() : f->mem[at] ^ 0xff);
		}
		if (rand() % 4 == 0) {		/* truncate one table */
			uint8_t *tp = fw_at(f, all[rand() % 5]);
			wr32(tp + 4, (uint32_t)rand() % (rd32(tp + 4) + 1));
		}
		if (rand() % 8 == 0)
			r[rand() % 36] = (uint8_t)rand();
		if (rand() % 2)
			for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
				fw_fix_sum(f, all[i]);
		int ret = parse(f, r, n, &info);
		CHECK(ret == 0 || ret == EINVAL_NEG);
		CHECK(info.ncpus >= 0 && info.ncpus <= ACPI_MAX_CPUS);
		CHECK(info.nioapics <= ACPI_MAX_IOAPICS);
		CHECK(info.noverrides <= ACPI_MAX_OVERRIDES);
		CHECK(info.nmem <= ACPI_MAX_MEMRANGES);
		CHECK(info.nnodes >= 1 && info.nnodes <= ACPI_MAX_NODES);
		CHECK(info.nproblems <= ACPI_MAX_PROBLEMS);
		for (int i = 0; i < info.nproblems; i++)
			CHECK(strnlen(info.problems[i], ACPI_PROBLEM_LEN) < ACPI_PROBLEM_LEN);
		for (int i = 0; i < info.ncpus; i++)
			CHECK(info.cpus[i].node < (uint32_t)info.nnodes);
	}
	free(pristine);
	fw_free(f);
}
