/* tests/user/hello.c: the smallest newlib program: printf, and malloc/free of a few
 * sizes (small bins, large bins, one past the first sbrk). Exits 0 if all went well. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv)
{
	static const size_t sizes[] = { 1, 24, 100, 4096, 70000, 1 << 20 };
	void *p[sizeof(sizes) / sizeof(sizes[0])];
	unsigned int i;

	printf("hello from user space\n");
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		p[i] = malloc(sizes[i]);
		if (p[i] == NULL) {
			printf("hello: malloc(%zu) failed\n", sizes[i]);
			return 1;
		}
		memset(p[i], (int)i, sizes[i]);
	}
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++)
		free(p[i]);
	return 0;
}
