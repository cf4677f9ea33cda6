/* arch/x86_64/acpi_parse.c: reads the CPUs, I/O APICs, HPET and NUMA layout out of the
 * ACPI tables (ACPI 6.x §5.2.5.3 RSDP, §5.2.6 header, §5.2.7-8 RSDT/XSDT, §5.2.12 MADT,
 * §5.2.16 SRAT; IA-PC HPET 1.0a Table 3).  Pure code: memory comes only through map(). */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <arch/acpi.h>
#include <kernel/string.h>

#define ERR_INVAL	(-22)		/* -EINVAL (kernel/uapi/errno.h) */
#define RSDP_V1_LEN	20		/* the part the first checksum covers */
#define RSDP_V2_LEN	36
#define HDR_LEN		36		/* §5.2.6 system description table header */
#define TABLE_MAX	(1u << 20)	/* no real table comes near 1 MiB */
#define MADT_ENTRIES	44
#define SRAT_ENTRIES	48
#define HPET_MIN_LEN	52		/* through the base address's 64-bit address */

/* A table mapped whole: len bytes at p, header and checksum verified. */
struct table {
	const uint8_t *p;
	uint32_t len;
};

struct parser {
	acpi_map_fn map;
	void *ctx;
	struct acpi_info *info;
};

/* Multi-byte fields sit at any alignment: read them through memcpy (x86 is
 * little-endian, as ACPI is). */
static uint16_t rd16(const uint8_t *p)
{
	uint16_t v;
	memcpy(&v, p, sizeof(v));
	return v;
}

static uint32_t rd32(const uint8_t *p)
{
	uint32_t v;
	memcpy(&v, p, sizeof(v));
	return v;
}

static uint64_t rd64(const uint8_t *p)
{
	uint64_t v;
	memcpy(&v, p, sizeof(v));
	return v;
}

static uint8_t sum(const uint8_t *p, size_t len)
{
	uint8_t s = 0;
	while (len--)
		s += *p++;
	return s;
}

/* Problem messages are built here, cut at ACPI_PROBLEM_LEN - 1 characters. */
struct msg {
	char buf[ACPI_PROBLEM_LEN];
	size_t len;
};

static void msg_str(struct msg *m, const char *s)
{
	while (*s && m->len + 1 < sizeof(m->buf))
		m->buf[m->len++] = *s++;
	m->buf[m->len] = 0;
}

static void msg_u32(struct msg *m, uint32_t v)
{
	char d[10];
	int n = 0;

	do {
		d[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	while (n && m->len + 1 < sizeof(m->buf))
		m->buf[m->len++] = d[--n];
	m->buf[m->len] = 0;
}

static void record(struct acpi_info *info, const struct msg *m)
{
	for (int i = 0; i < info->nproblems; i++)
		if (!memcmp(info->problem_text[i], m->buf, m->len + 1))
			return;
	if (info->nproblems == ACPI_MAX_PROBLEMS) {
		info->problems_dropped++;
		return;
	}
	memcpy(info->problem_text[info->nproblems], m->buf, m->len + 1);
	info->problems[info->nproblems] = info->problem_text[info->nproblems];
	info->nproblems++;
}

/* Records "<what> <how>", e.g. "MADT checksum bad". */
static void problem(struct acpi_info *info, const char *what, const char *how)
{
	struct msg m = { .len = 0 };

	msg_str(&m, what);
	msg_str(&m, " ");
	msg_str(&m, how);
	record(info, &m);
}

/* Starts "<table> entry at offset <off> " in m. */
static void msg_entry(struct msg *m, const char *table, uint32_t off)
{
	m->len = 0;
	msg_str(m, table);
	msg_str(m, " entry at offset ");
	msg_u32(m, off);
	msg_str(m, " ");
}

static void entry_problem(struct acpi_info *info, const char *table, uint32_t off,
			  const char *how)
{
	struct msg m;

	msg_entry(&m, table, off);
	msg_str(&m, how);
	record(info, &m);
}

/* map() with the address range checked first: NULL for pa 0 (no table lives
 * there; a zero entry means "none") or a range that wraps. */
static const uint8_t *map(struct parser *p, uint64_t pa, size_t len)
{
	if (pa == 0 || len > UINT64_MAX - pa)
		return NULL;
	return p->map(pa, len, p->ctx);
}

/* Maps the table at pa whole into *t: the header first, to learn and sanity-check
 * Length, then all of it, whose checksum must be 0.  sig is the 4-byte signature it
 * must carry, name how problems call it.  Returns false, the problem recorded, when
 * the table is unusable. */
static bool map_table(struct parser *p, uint64_t pa, const char *sig, const char *name,
		      struct table *t)
{
	const uint8_t *h = map(p, pa, HDR_LEN);
	uint32_t len;

	if (!h) {
		problem(p->info, name, "cannot be mapped");
		return false;
	}
	if (memcmp(h, sig, 4)) {
		problem(p->info, name, "signature bad");
		return false;
	}
	len = rd32(h + 4);
	if (len < HDR_LEN || len > TABLE_MAX) {
		problem(p->info, name, "length bad");
		return false;
	}
	t->p = map(p, pa, len);
	if (!t->p) {
		problem(p->info, name, "cannot be mapped");
		return false;
	}
	if (sum(t->p, len)) {
		problem(p->info, name, "checksum bad");
		return false;
	}
	t->len = len;
	return true;
}

/* Checks the RSDP (§5.2.5.3) and returns the root table addresses through *xsdt and
 * *rsdt (0: none or untrusted).  A revision 2 RSDP whose extended part is bad still
 * gives its RSDT, which the first checksum covers. */
static int parse_rsdp(struct acpi_info *info, const uint8_t *r, size_t len,
		      uint64_t *xsdt, uint64_t *rsdt)
{
	*xsdt = *rsdt = 0;
	if (len < RSDP_V1_LEN) {
		problem(info, "RSDP", "too short");
		return ERR_INVAL;
	}
	if (memcmp(r, "RSD PTR ", 8)) {
		problem(info, "RSDP", "signature bad");
		return ERR_INVAL;
	}
	if (sum(r, RSDP_V1_LEN)) {
		problem(info, "RSDP", "checksum bad");
		return ERR_INVAL;
	}
	memcpy(info->oem, r + 9, 6);
	info->oem[6] = 0;
	info->revision = r[15];
	*rsdt = rd32(r + 16);
	if (info->revision < 2)
		return 0;

	uint32_t xlen = len >= RSDP_V2_LEN ? rd32(r + 20) : 0;
	if (xlen < RSDP_V2_LEN || xlen > len)
		problem(info, "RSDP", "extended length bad");
	else if (sum(r, xlen))
		problem(info, "RSDP", "extended checksum bad");
	else
		*xsdt = rd64(r + 24);
	return 0;
}

/* The root table: the XSDT when there is a good one (an ACPI 2.0+ OS uses it in
 * preference to the RSDT, §5.2.8), else the RSDT.  *esize is the size of its entries. */
static int map_root(struct parser *p, uint64_t xsdt, uint64_t rsdt, struct table *t,
		    size_t *esize)
{
	if (xsdt && map_table(p, xsdt, "XSDT", "XSDT", t)) {
		p->info->xsdt_used = true;
		*esize = 8;
		return 0;
	}
	if (rsdt && map_table(p, rsdt, "RSDT", "RSDT", t)) {
		*esize = 4;
		return 0;
	}
	if (!xsdt && !rsdt)
		problem(p->info, "RSDP", "names no root table");
	return ERR_INVAL;
}

/* Whether the type-length entry at off (< t->len) lies whole inside t with a
 * length of at least 2.  When not, the problem is recorded and the walk must stop:
 * nothing after a bad length can be found. */
static bool entry_fits(struct acpi_info *info, const struct table *t, const char *name,
		       uint32_t off)
{
	struct msg m;

	if (t->len - off < 2) {
		entry_problem(info, name, off, "is cut off by the table end");
		return false;
	}
	uint8_t elen = t->p[off + 1];
	if (elen < 2) {
		msg_entry(&m, name, off);
		msg_str(&m, "has length ");
		msg_u32(&m, elen);
		record(info, &m);
		return false;
	}
	if (elen > t->len - off) {
		entry_problem(info, name, off, "runs past the table end");
		return false;
	}
	return true;
}

/* Adds an enabled processor unless one with the same APIC id is listed already
 * (firmware may describe a CPU by both a type-0 and a type-9 entry).  A duplicate of
 * a CPU that was dropped is counted as dropped again. */
static void add_cpu(struct acpi_info *info, uint32_t apic_id, uint32_t uid, bool x2apic)
{
	for (int i = 0; i < info->ncpus; i++)
		if (info->cpus[i].apic_id == apic_id)
			return;
	if (info->ncpus == ACPI_MAX_CPUS) {
		info->cpus_dropped++;
		return;
	}
	info->cpus[info->ncpus++] = (struct acpi_cpu){
		.apic_id = apic_id, .uid = uid, .x2apic_entry = x2apic,
	};
}

static void add_ioapic(struct acpi_info *info, const uint8_t *e)
{
	if (info->nioapics == ACPI_MAX_IOAPICS) {
		problem(info, "MADT", "has too many I/O APICs, extra ignored");
		return;
	}
	info->ioapics[info->nioapics++] = (struct acpi_ioapic){
		.id = e[2], .addr = rd32(e + 4), .gsi_base = rd32(e + 8),
	};
}

static void add_override(struct acpi_info *info, const uint8_t *e)
{
	if (info->noverrides == ACPI_MAX_OVERRIDES) {
		problem(info, "MADT", "has too many overrides, extra ignored");
		return;
	}
	info->overrides[info->noverrides++] = (struct acpi_override){
		.bus = e[2], .source = e[3], .gsi = rd32(e + 4), .flags = rd16(e + 8),
	};
}

/* Shortest valid length of each MADT entry type wisp reads (§5.2.12.2-5, 12). */
static const uint8_t madt_min_len[] = { [0] = 8, [1] = 12, [2] = 10, [5] = 12, [9] = 16 };

/* One MADT entry e of elen >= 2 bytes, at offset off.  Unknown types are skipped. */
static void madt_entry(struct acpi_info *info, const uint8_t *e, uint32_t elen, uint32_t off)
{
	uint8_t type = e[0];

	if (type < sizeof(madt_min_len) && elen < madt_min_len[type]) {
		entry_problem(info, "MADT", off, "too short for its type");
		return;
	}
	switch (type) {
	case 0:		/* Processor Local APIC: "Enabled" is flags bit 0 */
		if (rd32(e + 4) & 1)
			add_cpu(info, e[3], e[2], false);
		break;
	case 1:
		add_ioapic(info, e);
		break;
	case 2:
		add_override(info, e);
		break;
	case 5:		/* Local APIC Address Override: a 64-bit address wins */
		info->lapic_addr = rd64(e + 4);
		break;
	case 9:		/* Processor Local x2APIC */
		if (rd32(e + 8) & 1)
			add_cpu(info, rd32(e + 4), rd32(e + 12), true);
		break;
	}
}

static void parse_madt(struct acpi_info *info, const struct table *t)
{
	if (t->len < MADT_ENTRIES) {
		problem(info, "MADT", "too short");
		return;
	}
	info->madt_ok = true;
	info->lapic_addr = rd32(t->p + 36);
	info->pcat_compat = rd32(t->p + 40) & 1;
	for (uint32_t off = MADT_ENTRIES; off < t->len; off += t->p[off + 1]) {
		if (!entry_fits(info, t, "MADT", off))
			break;
		madt_entry(info, t->p + off, t->p[off + 1], off);
	}
}

static void parse_hpet(struct acpi_info *info, const struct table *t)
{
	if (t->len < HPET_MIN_LEN) {
		problem(info, "HPET", "too short");
		return;
	}
	if (t->p[40] != 0) {	/* Generic Address Structure: address space id */
		problem(info, "HPET", "not in system memory space");
		return;
	}
	info->hpet_addr = rd64(t->p + 44);
	if (!info->hpet_addr) {
		problem(info, "HPET", "base address is 0");
		return;
	}
	info->hpet_ok = true;
}

/* A proximity domain from the SRAT entry at off, used as the node number; false
 * (recorded) when it is too large to be one. */
static bool use_node(struct acpi_info *info, uint32_t node, uint32_t off)
{
	if (node >= ACPI_MAX_NODES) {
		entry_problem(info, "SRAT", off, "proximity domain too large");
		return false;
	}
	if ((int)node + 1 > info->nnodes)
		info->nnodes = (int)node + 1;
	return true;
}

/* The MADT was parsed first (see tables[]), so the CPUs are there to be given a node;
 * SRAT entries for processors the MADT did not enable are ignored. */
static void cpu_node(struct acpi_info *info, uint32_t apic_id, uint32_t node, uint32_t off)
{
	if (!use_node(info, node, off))
		return;
	for (int i = 0; i < info->ncpus; i++)
		if (info->cpus[i].apic_id == apic_id)
			info->cpus[i].node = node;
}

static void add_memrange(struct acpi_info *info, const uint8_t *e, uint32_t off)
{
	uint32_t node = rd32(e + 2), flags = rd32(e + 28);
	uint64_t base = rd64(e + 8), len = rd64(e + 16);	/* low then high dword */

	if (!(flags & 1) || len == 0 || !use_node(info, node, off))
		return;
	if (len > UINT64_MAX - base) {
		entry_problem(info, "SRAT", off, "wraps the address space");
		return;
	}
	if (info->nmem == ACPI_MAX_MEMRANGES) {
		problem(info, "SRAT", "has too many memory ranges, extra ignored");
		return;
	}
	info->mem[info->nmem++] = (struct acpi_memrange){
		.base = base, .len = len, .node = node, .hotplug = flags & 2,
	};
}

/* Shortest valid length of each SRAT entry type wisp reads (§5.2.16.1-3). */
static const uint8_t srat_min_len[] = { [0] = 16, [1] = 40, [2] = 24 };

static void srat_entry(struct acpi_info *info, const uint8_t *e, uint32_t elen, uint32_t off)
{
	uint8_t type = e[0];

	if (type < sizeof(srat_min_len) && elen < srat_min_len[type]) {
		entry_problem(info, "SRAT", off, "too short for its type");
		return;
	}
	switch (type) {
	case 0:		/* Processor Local APIC Affinity: domain bits 7:0, then 31:8 */
		if (rd32(e + 4) & 1)
			cpu_node(info, e[3], (uint32_t)e[2] | (uint32_t)e[9] << 8 |
				 (uint32_t)e[10] << 16 | (uint32_t)e[11] << 24, off);
		break;
	case 1:
		add_memrange(info, e, off);
		break;
	case 2:		/* Processor Local x2APIC Affinity */
		if (rd32(e + 12) & 1)
			cpu_node(info, rd32(e + 8), rd32(e + 4), off);
		break;
	}
}

static void parse_srat(struct acpi_info *info, const struct table *t)
{
	if (t->len < SRAT_ENTRIES) {
		problem(info, "SRAT", "too short");
		return;
	}
	info->srat_ok = true;
	for (uint32_t off = SRAT_ENTRIES; off < t->len; off += t->p[off + 1]) {
		if (!entry_fits(info, t, "SRAT", off))
			break;
		srat_entry(info, t->p + off, t->p[off + 1], off);
	}
}

/* The tables wisp reads, in the order they are parsed: the MADT before the SRAT, so
 * that the SRAT can give the CPUs their nodes whatever the root table's order. */
enum { TAB_MADT, TAB_HPET, TAB_SRAT, NTABLES };

static const struct {
	char sig[5];
	const char *name;
	void (*parse)(struct acpi_info *info, const struct table *t);
	bool required;		/* its absence is a problem */
} tables[NTABLES] = {
	[TAB_MADT] = { "APIC", "MADT", parse_madt, true },
	[TAB_HPET] = { "HPET", "HPET", parse_hpet, false },
	[TAB_SRAT] = { "SRAT", "SRAT", parse_srat, false },
};

/* Notes in found[] the address of the first root table entry carrying each wanted
 * signature; only the signature is mapped here. */
static void walk_root(struct parser *p, const struct table *root, size_t esize,
		      uint64_t found[NTABLES])
{
	const char *name = esize == 8 ? "XSDT" : "RSDT";

	for (uint32_t off = HDR_LEN; off <= root->len - esize; off += (uint32_t)esize) {
		uint64_t pa = esize == 8 ? rd64(root->p + off) : rd32(root->p + off);
		const uint8_t *sig = map(p, pa, 4);

		if (!sig) {
			entry_problem(p->info, name, off, "cannot be mapped");
			continue;
		}
		for (int i = 0; i < NTABLES; i++) {
			if (memcmp(sig, tables[i].sig, 4))
				continue;
			if (found[i])
				problem(p->info, tables[i].name, "listed twice, first used");
			else
				found[i] = pa;
		}
	}
}

int acpi_parse(const void *rsdp, size_t len, acpi_map_fn map_fn, void *ctx,
	       struct acpi_info *info)
{
	struct parser p = { .map = map_fn, .ctx = ctx, .info = info };
	uint64_t xsdt, rsdt, found[NTABLES] = { 0 };
	struct table root, t;
	size_t esize;

	memset(info, 0, sizeof(*info));
	info->nnodes = 1;
	if (!rsdp || parse_rsdp(info, rsdp, len, &xsdt, &rsdt) < 0)
		return ERR_INVAL;
	if (map_root(&p, xsdt, rsdt, &root, &esize) < 0)
		return ERR_INVAL;
	walk_root(&p, &root, esize, found);
	for (int i = 0; i < NTABLES; i++) {
		if (!found[i]) {
			if (tables[i].required)
				problem(info, tables[i].name, "missing");
			continue;
		}
		if (map_table(&p, found[i], tables[i].sig, tables[i].name, &t))
			tables[i].parse(info, &t);
	}
	return 0;
}
