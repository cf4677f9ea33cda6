/* kernel/main.c: the boot CPU's path from the boot loader to a running kernel.
 * Read it as a table of contents: one step per line, in the order they must happen. */
#include <kernel/args.h>
#include <kernel/enclave.h>
#include <kernel/bootinfo.h>
#include <kernel/coresched.h>
#include <kernel/cpu.h>
#include <kernel/futex.h>
#include <kernel/kmalloc.h>
#include <kernel/ktest.h>
#include <kernel/page.h>
#include <kernel/printk.h>
#include <kernel/string.h>
#include <kernel/symbols.h>
#include <kernel/topology.h>
#include <kernel/trace.h>
#include <kernel/uapi/errno.h>
#include <arch/arch.h>
#include <version.h>

struct boot_info boot_info;

void crash_run_requested(void);	/* tests/ktest/crash.c */
void bench_run_requested(void);	/* tests/bench/ */
void init_run_requested(void);	/* kernel/init.c */

/* Under QEMU, fw_cfg's opt/wisp/cmdline replaces the boot loader's command line, so
 * one ISO serves every run (tools/run sets it). */
static void cmdline_from_fw_cfg(struct boot_info *bi)
{
	char buf[BOOT_CMDLINE_MAX];
	long n = arch_fw_cfg_read("opt/wisp/cmdline", buf, sizeof(buf) - 1);

	if (n == -ENOENT)
		return;
	if (n < 0 || n >= (long)sizeof(buf)) {
		printk("wisp: warning: fw_cfg opt/wisp/cmdline unusable (%s); using the boot "
		       "loader's command line\n", n < 0 ? "read error" : "longer than 1023 bytes");
		return;
	}
	buf[n] = '\0';
	memcpy(bi->cmdline, buf, (size_t)n + 1);
	bi->cmdline_source = "fw_cfg opt/wisp/cmdline";
}

static void print_memory(void)
{
	uint64_t usable = page_usable_count() * PAGE_SIZE;
	uint64_t free = page_free_count() * PAGE_SIZE;

	printk("wisp: memory: %lu MiB usable, %lu MiB free, %d regions, %d modules\n",
	       usable >> 20, free >> 20, boot_info.nmem, boot_info.nmods);
}

void kmain(uint32_t magic, uint32_t info_phys)
{
	char args[BOOT_CMDLINE_MAX];

	arch_early_init();
	printk("\nwisp %s (%s) x86_64\n", WISP_VERSION, WISP_BUILD);
	arch_boot_info(magic, info_phys, &boot_info);
	printk("wisp: booted by %s through %s firmware\n", boot_info.loader,
	       boot_info.uefi ? "UEFI" : "BIOS");
	page_init(&boot_info);
	arch_paging_init(&boot_info);
	kmalloc_init();
	symbols_init(&boot_info);
	cmdline_from_fw_cfg(&boot_info);
	print_memory();
	printk("wisp: command line (%s): %s\n", boot_info.cmdline_source, boot_info.cmdline);
	strlcpy(args, boot_info.cmdline, sizeof(args));
	args_apply(args);
	futex_init();
	arch_smp_init(&boot_info);
	topology_init();
	coresched_init();
	enclave_init();
	trace_init();
	printk("wisp: %u cpus online\n", ncpus);
	printk("wisp: ready\n");

	if (ktest_requested())
		ktest_run();
	crash_run_requested();
	bench_run_requested();
	init_run_requested();
	for (;;)
		arch_idle();
}
