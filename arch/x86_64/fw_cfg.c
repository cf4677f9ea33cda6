/* arch/x86_64/fw_cfg.c: QEMU's firmware configuration device, read through its
 * x86 I/O ports (QEMU docs/specs/fw_cfg.rst: selector register 0x510, 16-bit;
 * data register 0x511, 8-bit; "FW_CFG_SIGNATURE (0x0000) ... returns 'QEMU'";
 * "FW_CFG_FILE_DIR (0x0019)": a big-endian count, then entries of a big-endian
 * 32-bit size, a big-endian 16-bit selector, 16 reserved bits and a 56-byte name).
 * On a machine without fw_cfg the signature does not match and nothing is read. */
#include <arch/arch.h>
#include <arch/x86.h>
#include <kernel/string.h>
#include <kernel/uapi/errno.h>

#define FW_CFG_SEL		0x510
#define FW_CFG_DATA		0x511
#define FW_CFG_SIGNATURE	0x0000
#define FW_CFG_FILE_DIR		0x0019

struct fw_cfg_file {
	uint32_t size;		/* big-endian */
	uint16_t select;	/* big-endian */
	uint16_t reserved;
	char name[56];
};

static void fw_cfg_select(uint16_t sel)
{
	outw(FW_CFG_SEL, sel);
}

static void fw_cfg_bytes(void *buf, size_t n)
{
	uint8_t *b = buf;
	while (n--)
		*b++ = inb(FW_CFG_DATA);
}

static uint32_t be32(uint32_t v) { return __builtin_bswap32(v); }
static uint16_t be16(uint16_t v) { return __builtin_bswap16(v); }

static bool fw_cfg_present(void)
{
	char sig[4];

	fw_cfg_select(FW_CFG_SIGNATURE);
	fw_cfg_bytes(sig, 4);
	return !memcmp(sig, "QEMU", 4);
}

/* FW_CFG_NB_CPUS (0x0005): the number of CPUs QEMU started the machine with,
 * a 16-bit little-endian value.  0 without fw_cfg. */
unsigned arch_fw_cfg_boot_cpus(void)
{
	uint16_t n;

	if (!fw_cfg_present())
		return 0;
	fw_cfg_select(0x0005);
	fw_cfg_bytes(&n, 2);
	return n;
}

long arch_fw_cfg_read(const char *name, void *buf, size_t len)
{
	uint32_t count;

	if (!fw_cfg_present())
		return -ENOENT;
	fw_cfg_select(FW_CFG_FILE_DIR);
	fw_cfg_bytes(&count, 4);
	count = be32(count);
	for (uint32_t i = 0; i < count && i < 4096; i++) {
		struct fw_cfg_file f;
		fw_cfg_bytes(&f, sizeof(f));
		f.name[sizeof(f.name) - 1] = '\0';
		if (strcmp(f.name, name))
			continue;
		uint32_t size = be32(f.size);
		fw_cfg_select(be16(f.select));
		fw_cfg_bytes(buf, size < len ? size : len);
		return size;
	}
	return -ENOENT;
}
