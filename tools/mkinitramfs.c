/* tools/mkinitramfs.c: write a Linux initramfs (a cpio archive in the "newc" format,
 * Documentation/driver-api/early-userspace/buffer-format.rst) holding one file,
 * /init, made from the given program, and /dev/console.  Host tool; no cpio needed.
 * usage: mkinitramfs PROGRAM OUTPUT */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* One member: a directory, a regular file (data) or a device node (rdev). */
static void entry(FILE *out, const char *name, unsigned mode, const char *data, size_t size,
		  unsigned ino, unsigned rdev_major, unsigned rdev_minor)
{
	size_t namesize = strlen(name) + 1;
	long pos = fprintf(out, "070701%08X%08X%08X%08X%08X%08X%08lX%08X%08X%08X%08X%08lX%08X",
			   ino, mode, 0, 0, 1, 0, (unsigned long)size, 0, 0, rdev_major,
			   rdev_minor, (unsigned long)namesize, 0);
	fwrite(name, 1, namesize, out);
	pos += (long)namesize;
	while (pos % 4) {
		fputc(0, out);
		pos++;
	}
	if (size)
		fwrite(data, 1, size, out);
	while (size % 4) {
		fputc(0, out);
		size++;
	}
}

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: mkinitramfs PROGRAM OUTPUT\n");
		return 2;
	}
	FILE *in = fopen(argv[1], "rb");
	struct stat st;
	if (!in || fstat(fileno(in), &st)) {
		perror(argv[1]);
		return 1;
	}
	char *data = malloc((size_t)st.st_size + 1);
	if (!data || fread(data, 1, (size_t)st.st_size, in) != (size_t)st.st_size) {
		fprintf(stderr, "mkinitramfs: cannot read %s\n", argv[1]);
		return 1;
	}
	FILE *out = fopen(argv[2], "wb");
	if (!out) {
		perror(argv[2]);
		return 1;
	}
	entry(out, "dev", 040755, NULL, 0, 1, 0, 0);
	entry(out, "dev/console", 020600, NULL, 0, 2, 5, 1);	/* init's stdin/out/err */
	entry(out, "init", 0100755, data, (size_t)st.st_size, 3, 0, 0);
	entry(out, "TRAILER!!!", 0, NULL, 0, 0, 0, 0);
	return fclose(out) ? 1 : 0;
}
