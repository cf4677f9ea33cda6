# wisp: one Makefile, explicit object lists.
#
#   make            build/kernel.elf, build/kernel.sym, build/wisp.iso
#   make run        boot the ISO in QEMU, serial console on this terminal
#   make test       host unit tests, in-kernel tests and QEMU integration tests
#   make clean
#
# Options: RELEASE=1 drops the heap's debug checks; ARGS="..." passes kernel
# arguments to `make run`; RUNFLAGS="--smp 4 --uefi ..." passes tools/run options.

VERSION := 0.1.0
BUILD := build
RELEASE ?= 0
DEBUG := $(if $(filter 1,$(RELEASE)),0,1)

# Install missing Debian packages (tools/deps) before anything else; a no-op when
# everything is present.
ifeq ($(filter clean,$(MAKECMDGOALS)),)
DEPS_STATUS := $(shell tools/deps >&2; echo $$?)
ifneq ($(DEPS_STATUS),0)
$(error tools/deps could not install the packages wisp needs (see above))
endif
endif

CC := gcc
LD := ld
OBJCOPY := objcopy
OBJDUMP := objdump

KCFLAGS := -std=gnu11 -O2 -g -ffreestanding -fno-builtin -nostdlib -fno-pic -fno-pie \
	-mno-red-zone -mgeneral-regs-only -mcmodel=kernel -mno-sse -mno-mmx \
	-fno-omit-frame-pointer -mno-omit-leaf-frame-pointer -fno-stack-protector \
	-fno-asynchronous-unwind-tables -fno-strict-aliasing \
	-Wall -Wextra -Wno-unused-parameter -Werror \
	-I. -Iarch/x86_64/include -I$(BUILD) -DWISP_DEBUG=$(DEBUG)
KASFLAGS := -I. -Iarch/x86_64/include -D__ASSEMBLY__
KLDFLAGS := -nostdlib -z max-page-size=0x1000 -z noexecstack --no-warn-rwx-segments -T linker.ld

BOOT_OBJS := boot/multiboot2.o boot/entry.o boot/trampoline.o
ARCH_OBJS := \
	arch/x86_64/acpi.o \
	arch/x86_64/acpi_parse.o \
	arch/x86_64/cpu.o \
	arch/x86_64/flush.o \
	arch/x86_64/fpu.o \
	arch/x86_64/fw_cfg.o \
	arch/x86_64/idt.o \
	arch/x86_64/ioapic.o \
	arch/x86_64/lapic.o \
	arch/x86_64/multiboot.o \
	arch/x86_64/paging.o \
	arch/x86_64/power.o \
	arch/x86_64/probe.o \
	arch/x86_64/smp.o \
	arch/x86_64/switch.o \
	arch/x86_64/syscall.o \
	arch/x86_64/topology.o \
	arch/x86_64/trap.o \
	arch/x86_64/trapentry.o \
	arch/x86_64/tsc.o \
	arch/x86_64/uart.o \
	arch/x86_64/uvm.o
KERNEL_OBJS := \
	kernel/args.o \
	kernel/bootinfo.o \
	kernel/cmdline.o \
	kernel/elf_check.o \
	kernel/enclave.o \
	kernel/ghost_sys.o \
	kernel/futex.o \
	kernel/ghost_queue.o \
	kernel/ghost_txn.o \
	kernel/console.o \
	kernel/coresched.o \
	kernel/format.o \
	kernel/frame_map.o \
	kernel/heap.o \
	kernel/init.o \
	kernel/kmalloc.o \
	kernel/ktest.o \
	kernel/main.o \
	kernel/page.o \
	kernel/panic.o \
	kernel/printk.o \
	kernel/sched.o \
	kernel/sched_native.o \
	kernel/smp.o \
	kernel/spinlock.o \
	kernel/string.o \
	kernel/symbols.o \
	kernel/syscall.o \
	kernel/task.o \
	kernel/thread.o \
	kernel/timer.o \
	kernel/topology.o \
	kernel/trace.o \
	kernel/usercopy.o \
	kernel/vm.o
KTEST_OBJS := \
	tests/ktest/crash.o \
	tests/ktest/test_enclave.o \
	tests/ktest/test_args.o \
	tests/ktest/test_format.o \
	tests/ktest/test_heap.o \
	tests/ktest/test_page.o \
	tests/ktest/test_paging.o \
	tests/ktest/test_sched.o \
	tests/ktest/test_serial.o \
	tests/ktest/test_smp.o \
	tests/ktest/test_symbols.o \
	tests/ktest/test_task.o \
	tests/ktest/test_timer.o \
	tests/ktest/test_traps.o

BENCH_OBJS := tests/bench/bench_smp.o

OBJS := $(addprefix $(BUILD)/,$(BOOT_OBJS) $(ARCH_OBJS) $(KERNEL_OBJS) $(KTEST_OBJS) $(BENCH_OBJS))
DEPS := $(OBJS:.o=.d)

# Only the GRUB modules the ISO needs; grub-mkrescue adds its platform basics.
GRUB_MODULES := multiboot2 normal serial terminal iso9660 configfile part_msdos part_gpt \
	part_acorn part_amiga part_apple part_bsd part_dfly part_dvh part_plan part_sun part_sunpc

.PHONY: all run test clean host-test-bin user
all: $(BUILD)/kernel.elf $(BUILD)/kernel.sym $(BUILD)/wisp.iso $(BUILD)/host/perfetto

# The version header changes only when the version or the commit does.
$(BUILD)/version.h: FORCE
	@mkdir -p $(BUILD)
	@v='#define WISP_VERSION "$(VERSION)"'; \
	 b="#define WISP_BUILD \"$$(git rev-parse --short HEAD 2>/dev/null || echo unknown)$$(git diff --quiet HEAD 2>/dev/null || echo -dirty)$(if $(filter 1,$(RELEASE)),, debug)\""; \
	 printf '%s\n%s\n' "$$v" "$$b" > $@.tmp; \
	 cmp -s $@.tmp $@ && rm -f $@.tmp || mv $@.tmp $@
FORCE:

$(BUILD)/%.o: %.c | $(BUILD)/version.h
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	@$(CC) $(KCFLAGS) -MMD -MP -c $< -o $@

$(BUILD)/%.o: %.S
	@mkdir -p $(dir $@)
	@echo "  AS      $<"
	@$(CC) $(KASFLAGS) -MMD -MP -c $< -o $@

$(BUILD)/kernel/main.o: $(BUILD)/version.h

$(BUILD)/kernel.elf: $(OBJS) linker.ld
	@echo "  LD      $@"
	@$(LD) $(KLDFLAGS) -o $@ $(OBJS)
	@$(OBJDUMP) -d -M att $@ > $(BUILD)/kernel.asm

# ELF with the symbol table and debug info only: gdb's symbol file, and the module
# the kernel symbolizes backtraces from.
$(BUILD)/kernel.sym: $(BUILD)/kernel.elf
	@echo "  SYM     $@"
	@$(OBJCOPY) --only-keep-debug $< $@

# User programs built on newlib (see "User programs" below): NAME.c in one of
# USER_SRC_DIRS becomes $(BUILD)/user/NAME.elf.
USER_SRC_DIRS := tests/user tests/bench tests/agents agents/lib agents/fifo-percpu \
	agents/fifo-central agents/shinjuku agents/coresched workloads control
BROKEN_AGENTS := broken-never broken-spin broken-wrong-cpu broken-other-enclave broken-stale \
	broken-crash-commit broken-exit-busy broken-flood
USER_PROGS := hello usertests ghosttests faulttests coretests benchsched benchghost benchfaults benchcore \
	fifo-percpu fifo-central shinjuku coresched workload dispersion vcpu scenario $(BROKEN_AGENTS)
USER_ELFS := $(patsubst %,$(BUILD)/user/%.elf,$(USER_PROGS))

# User programs on the ISO: each becomes the boot module named after its file.
# ISO_BLOBS go on as they are (a deliberately broken ELF among them).
ISO_PROGRAMS := $(BUILD)/user/raw $(BUILD)/user/fault $(USER_ELFS)
ISO_BLOBS := $(BUILD)/user/badelf $(wildcard boot/scenarios/*.conf tests/scenarios/*.conf)

# Programs without the C library (tests that must not depend on it).
$(BUILD)/user/raw $(BUILD)/user/fault: $(BUILD)/user/%: tests/user/%.c
	@mkdir -p $(dir $@)
	@echo "  USER    $@"
	@$(CC) -O2 -g -static -nostdlib -ffreestanding -fno-pic -no-pie -fno-stack-protector \
		-Wl,-Ttext-segment=0x400000 -Wl,--build-id=none $< -o $@

# A truncated program: the loader must refuse it with a reason.
$(BUILD)/user/badelf: $(BUILD)/user/raw
	@head -c 300 $< > $@

$(BUILD)/wisp.iso: $(BUILD)/kernel.elf $(BUILD)/kernel.sym boot/grub.cfg $(ISO_PROGRAMS) $(ISO_BLOBS)
	@rm -rf $(BUILD)/iso && mkdir -p $(BUILD)/iso/boot/grub $(BUILD)/iso/boot/user
	@$(OBJCOPY) --strip-debug $(BUILD)/kernel.elf $(BUILD)/iso/boot/wisp.elf
	@$(OBJCOPY) --strip-debug $(BUILD)/kernel.sym $(BUILD)/iso/boot/kernel.sym
	@for p in $(ISO_PROGRAMS); do $(OBJCOPY) --strip-debug $$p $(BUILD)/iso/boot/user/$$(basename $$p .elf); done
	@for p in $(ISO_BLOBS); do cp $$p $(BUILD)/iso/boot/user/; done
	@{ sed '/@PROGRAMS@/,$$d' boot/grub.cfg; \
	   for p in $(ISO_PROGRAMS) $(ISO_BLOBS); do n=$$(basename $$p .elf); \
		printf '\tmodule2 /boot/user/%s %s\n' $$n $$n; done; \
	   sed '1,/@PROGRAMS@/d' boot/grub.cfg; } > $(BUILD)/iso/boot/grub/grub.cfg
	@echo "  ISO     $@"
	@grub-mkrescue --quiet --compress=xz --install-modules="$(GRUB_MODULES)" \
		--modules="multiboot2 serial terminal" --locales= --fonts= --themes= \
		-o $@ $(BUILD)/iso -- -volid WISP 2>$(BUILD)/grub-mkrescue.log \
		|| { cat $(BUILD)/grub-mkrescue.log; exit 1; }

# Host unit tests: the pure kernel code, compiled for Linux with sanitizers.
HOST_CFLAGS := -std=gnu11 -O1 -g -Wall -Wextra -Wno-unused-parameter -Werror \
	-fsanitize=address,undefined -fno-sanitize-recover=undefined -I. -Iarch/x86_64/include
HOST_SRCS := arch/x86_64/acpi_parse.c kernel/cmdline.c kernel/elf_check.c kernel/format.c \
	kernel/frame_map.c kernel/ghost_queue.c kernel/ghost_txn.c kernel/heap.c \
	tests/host/test_ghost_queue.c tests/host/test_ghost_txn.c \
	tests/host/main.c tests/host/test_acpi.c tests/host/test_cmdline.c tests/host/test_elf.c \
	tests/host/test_format.c tests/host/test_frame_map.c tests/host/test_heap.c

$(BUILD)/host/unit: $(HOST_SRCS) $(wildcard tests/host/*.h kernel/*.h arch/x86_64/include/arch/*.h)
	@mkdir -p $(dir $@)
	@echo "  HOSTCC  $@"
	@$(CC) $(HOST_CFLAGS) $(HOST_SRCS) -o $@ -pthread

host-test-bin: $(BUILD)/host/unit

# Benchmarks of pure kernel code on the host's real CPUs (JSON lines).
$(BUILD)/host/bench_ghost_queue: tests/host/bench_ghost_queue.c kernel/ghost_queue.c kernel/ghost_queue.h \
		kernel/ghost_txn.c kernel/ghost_txn.h
	@mkdir -p $(dir $@)
	@$(CC) -std=gnu11 -O2 -g -Wall -Werror -I. $(filter %.c,$^) -o $@ -pthread

.PHONY: bench-host
bench-host: $(BUILD)/host/bench_ghost_queue
	@$<

# User programs: static x86-64 ELF executables (ET_EXEC at 0x400000, libc/user.ld)
# on newlib and wisp's libc/ (crt0, system calls, threads; include <wisp.h>).
# $(BUILD)/user/NAME.elf is built from NAME.c in one of USER_SRC_DIRS; `make user`
# builds every program in USER_PROGS. A program of several files names the others:
#   $(BUILD)/user/NAME.elf: $(BUILD)/user/NAME_util.o
# newlib is built once by tools/build-newlib (about 40 s) and kept in $(BUILD)/newlib.
# (USER_SRC_DIRS, USER_PROGS and USER_ELFS are set near the top: the ISO needs them.)

NEWLIB := $(BUILD)/newlib/x86_64-elf
NEWLIB_STAMP := $(BUILD)/newlib/.stamp
# Only newlib's headers and gcc's own (stddef.h, stdarg.h, cpuid.h): never glibc's.
# _POSIX_TIMERS and _POSIX_MONOTONIC_CLOCK make newlib declare clock_gettime and
# nanosleep, which libc/time.c provides.
UCFLAGS := -std=gnu11 -O2 -g -fno-pic -fno-pie -fno-stack-protector \
	-ffunction-sections -fdata-sections -nostdinc \
	-isystem $(NEWLIB)/include -isystem $(shell $(CC) -print-file-name=include) \
	-Ilibc -I. -D_POSIX_TIMERS=1 -D_POSIX_MONOTONIC_CLOCK=200112L \
	-Wall -Wextra -Wno-unused-parameter -Werror
ULDFLAGS := -nostdlib -static -no-pie -T libc/user.ld -Wl,--gc-sections \
	-Wl,-z,max-page-size=0x1000 -Wl,-z,noexecstack -Wl,--build-id=none
# libc/ as plain objects, not an archive: libc/lock.c must win over newlib's empty
# locks, which an archive searched after libc.a's first pass would not guarantee.
LIBC_OBJS := $(addprefix $(BUILD)/libc/,crt0.o errno.o heap.o lock.o syscalls.o \
	thread.o time.o wisp.o)
USER_LIBS := -Wl,--start-group $(NEWLIB)/lib/libc.a $(NEWLIB)/lib/libm.a \
	$(shell $(CC) -print-libgcc-file-name) -Wl,--end-group

$(NEWLIB_STAMP): tools/build-newlib
	@tools/build-newlib $(BUILD)

$(BUILD)/libc/%.o: libc/%.c $(NEWLIB_STAMP)
	@mkdir -p $(dir $@)
	@echo "  UCC     $<"
	@$(CC) $(UCFLAGS) -MMD -MP -c $< -o $@

$(BUILD)/libc/%.o: libc/%.S
	@mkdir -p $(dir $@)
	@echo "  UAS     $<"
	@$(CC) $(UCFLAGS) -MMD -MP -c $< -o $@

define user_src_dir
$$(BUILD)/user/%.o: $(1)/%.c $$(NEWLIB_STAMP)
	@mkdir -p $$(dir $$@)
	@echo "  UCC     $$<"
	@$$(CC) $$(UCFLAGS) -MMD -MP -c $$< -o $$@
endef
$(foreach dir,$(USER_SRC_DIRS),$(eval $(call user_src_dir,$(dir))))
.PRECIOUS: $(BUILD)/libc/%.o $(BUILD)/user/%.o

$(BUILD)/user/%.elf: $(BUILD)/user/%.o $(LIBC_OBJS) libc/user.ld $(NEWLIB_STAMP)
	@echo "  ULD     $@"
	@$(CC) $(ULDFLAGS) -o $@ $(LIBC_OBJS) $(filter-out $(LIBC_OBJS),$(filter %.o,$^)) \
		$(USER_LIBS)

# Agents are built on the agent library.
$(BUILD)/user/fifo-percpu.elf $(BUILD)/user/fifo-central.elf $(BUILD)/user/shinjuku.elf \
	$(BUILD)/user/coresched.elf: $(BUILD)/user/ghostlib.o
$(patsubst %,$(BUILD)/user/%.elf,$(BROKEN_AGENTS)): $(BUILD)/user/ghostlib.o

user: $(USER_ELFS)

# The Linux guest of make bench (tools/linux-guest, bench/linux/): the same
# benchmark sources built for Linux on pthreads, static, as the initramfs's /init.
LINUX_BENCH_SRC := bench/linux/linuxbench.c tests/bench/benchsched.c workloads/dispersion.c
LINUX_CFLAGS := -std=gnu11 -O2 -static -pthread -D_GNU_SOURCE -Ibench/linux/include -I. -Wall -Wno-unused-parameter
$(BUILD)/linux/linuxbench: $(LINUX_BENCH_SRC) $(wildcard bench/linux/include/*.h) kernel/uapi/ghost.h
	@mkdir -p $(dir $@)
	@echo "  HOSTCC  $@"
	@$(CC) $(LINUX_CFLAGS) -Dmain=micro_main -c tests/bench/benchsched.c -o $@-micro.o
	@$(CC) $(LINUX_CFLAGS) -Dmain=dispersion_main -c workloads/dispersion.c -o $@-dispersion.o
	@$(CC) $(LINUX_CFLAGS) -o $@ bench/linux/linuxbench.c $@-micro.o $@-dispersion.o -lm
$(BUILD)/host/mkinitramfs: tools/mkinitramfs.c
	@mkdir -p $(dir $@)
	@$(CC) -O2 -Wall -o $@ $<
$(BUILD)/linux/initrd.cpio: $(BUILD)/linux/linuxbench $(BUILD)/host/mkinitramfs
	@echo "  INITRD  $@"
	@$(BUILD)/host/mkinitramfs $< $@
.PHONY: linux-bench
linux-bench: $(BUILD)/linux/initrd.cpio
$(BUILD)/host/benchreport: tools/benchreport.c
	@mkdir -p $(dir $@)
	@$(CC) -O2 -Wall -Wextra -o $@ $< -lm
# A boot log's trace=N context switches as a Perfetto timeline (tools/perfetto.c).
$(BUILD)/host/perfetto: tools/perfetto.c
	@mkdir -p $(dir $@)
	@echo "  HOSTCC  $@"
	@$(CC) -O2 -Wall -Wextra -o $@ $<

# make bench: wisp against Linux in the same QEMU (tools/bench; README, "Benchmarks").
.PHONY: bench
bench:
	@tools/bench $(BENCHFLAGS)

# `make run` boots the demo scenario on 6 CPUs unless told otherwise.
RUNFLAGS ?= --smp 6
ARGS ?= scenario=demo
run: all
	tools/run --interactive $(RUNFLAGS) -- $(ARGS)

test: all
	tests/run

clean:
	rm -rf $(BUILD)

-include $(DEPS) $(wildcard $(BUILD)/libc/*.d $(BUILD)/user/*.d)
