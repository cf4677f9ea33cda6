/* kernel/symbols.h: kernel symbol lookup for backtraces (kernel/symbols.c).
 * The symbols come from build/kernel.sym, which GRUB loads as the module
 * "kernel.sym" (boot/grub.cfg); without it addresses print unsymbolized. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct boot_info;

/* Find and validate the symbol module; reports what it found.  Returns 0 or a
 * negative error (the kernel carries on without symbols). */
int symbols_init(const struct boot_info *bi);
bool symbols_loaded(void);
/* The function containing addr and the offset into it, or NULL. */
const char *symbol_lookup(uintptr_t addr, uintptr_t *offset);
/* The address of the named symbol, or 0. */
uintptr_t symbol_address(const char *name);
/* "<name+0x1a>" or "<?>" into buf. */
void symbol_format(uintptr_t addr, char *buf, size_t len);
/* The same for a return address (names the function holding the call). */
void symbol_format_return(uintptr_t addr, char *buf, size_t len);
