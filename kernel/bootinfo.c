/* kernel/bootinfo.c: looking things up in the boot information. */
#include <kernel/bootinfo.h>
#include <kernel/string.h>

const struct boot_module *boot_module(const char *name)
{
	for (int i = 0; i < boot_info.nmods; i++)
		if (!strcmp(boot_info.mods[i].name, name))
			return &boot_info.mods[i];
	return NULL;
}
