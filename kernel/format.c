/* kernel/format.c: the printf engine behind printk and snprintf.  See format.h. */
#include <kernel/format.h>
#include <stdbool.h>
#include <stdint.h>

struct out {
	char *buf;
	size_t size;
	size_t len;	/* characters produced so far, stored or not */
};

static void put(struct out *o, char c)
{
	if (o->len + 1 < o->size)
		o->buf[o->len] = c;
	o->len++;
}

static void pad(struct out *o, char c, int n)
{
	while (n-- > 0)
		put(o, c);
}

struct spec {
	bool left, zero, plus, space, alt;
	int width;
	int prec;	/* -1: none */
};

/* Emit the digits of v in base (with prefix and sign) honouring width and precision. */
static void emit_number(struct out *o, const struct spec *s, uintmax_t v, bool neg,
			unsigned base, bool upper)
{
	const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
	char tmp[64];
	int n = 0;

	while (v) {
		tmp[n++] = digits[v % base];
		v /= base;
	}
	/* C99 7.19.6.1: "The result of converting a zero value with a precision of zero
	 * is no characters." */
	if (n == 0 && s->prec != 0)
		tmp[n++] = '0';

	const char *prefix = "";
	if (neg)
		prefix = "-";
	else if (s->plus)
		prefix = "+";
	else if (s->space)
		prefix = " ";
	if (s->alt && base == 16 && n > 0 && !(n == 1 && tmp[0] == '0'))
		prefix = upper ? "0X" : "0x";
	int plen = 0;
	while (prefix[plen])
		plen++;

	int zeros = s->prec > n ? s->prec - n : 0;
	if (s->alt && base == 8 && zeros == 0 && tmp[n - 1] != '0')
		zeros = 1;
	int body = plen + zeros + n;
	int fill = s->width > body ? s->width - body : 0;

	if (!s->left && !(s->zero && s->prec < 0))
		pad(o, ' ', fill);
	for (int i = 0; i < plen; i++)
		put(o, prefix[i]);
	if (!s->left && s->zero && s->prec < 0)
		pad(o, '0', fill);
	pad(o, '0', zeros);
	while (n--)
		put(o, tmp[n]);
	if (s->left)
		pad(o, ' ', fill);
}

static void emit_string(struct out *o, const struct spec *s, const char *str)
{
	int n = 0;

	if (!str)
		str = "(null)";
	while (str[n] && (s->prec < 0 || n < s->prec))
		n++;
	if (!s->left)
		pad(o, ' ', s->width - n);
	for (int i = 0; i < n; i++)
		put(o, str[i]);
	if (s->left)
		pad(o, ' ', s->width - n);
}

enum length { LEN_INT, LEN_CHAR, LEN_SHORT, LEN_LONG, LEN_LLONG, LEN_SIZE, LEN_PTRDIFF, LEN_MAX };

static uintmax_t get_unsigned(va_list *ap, enum length len)
{
	switch (len) {
	case LEN_CHAR:		return (unsigned char)va_arg(*ap, unsigned);
	case LEN_SHORT:		return (unsigned short)va_arg(*ap, unsigned);
	case LEN_LONG:		return va_arg(*ap, unsigned long);
	case LEN_LLONG:		return va_arg(*ap, unsigned long long);
	case LEN_SIZE:		return va_arg(*ap, size_t);
	case LEN_PTRDIFF:	return (uintmax_t)va_arg(*ap, ptrdiff_t);
	case LEN_MAX:		return va_arg(*ap, uintmax_t);
	default:		return va_arg(*ap, unsigned);
	}
}

static intmax_t get_signed(va_list *ap, enum length len)
{
	switch (len) {
	case LEN_CHAR:		return (signed char)va_arg(*ap, int);
	case LEN_SHORT:		return (short)va_arg(*ap, int);
	case LEN_LONG:		return va_arg(*ap, long);
	case LEN_LLONG:		return va_arg(*ap, long long);
	case LEN_SIZE:		return (intmax_t)va_arg(*ap, size_t);
	case LEN_PTRDIFF:	return va_arg(*ap, ptrdiff_t);
	case LEN_MAX:		return va_arg(*ap, intmax_t);
	default:		return va_arg(*ap, int);
	}
}

/* Parse flags, width, precision and length at *pf; leaves *pf on the conversion. */
static enum length parse_spec(const char **pf, struct spec *s, va_list *ap)
{
	const char *f = *pf;

	*s = (struct spec){ .prec = -1 };
	for (;; f++) {
		if (*f == '-')		s->left = true;
		else if (*f == '0')	s->zero = true;
		else if (*f == '+')	s->plus = true;
		else if (*f == ' ')	s->space = true;
		else if (*f == '#')	s->alt = true;
		else			break;
	}
	if (*f == '*') {
		s->width = va_arg(*ap, int);
		if (s->width < 0) {
			s->left = true;
			s->width = -s->width;
		}
		f++;
	} else {
		while (*f >= '0' && *f <= '9')
			s->width = s->width * 10 + (*f++ - '0');
	}
	if (*f == '.') {
		f++;
		s->prec = 0;
		if (*f == '*') {
			s->prec = va_arg(*ap, int);
			if (s->prec < 0)
				s->prec = -1;
			f++;
		} else {
			while (*f >= '0' && *f <= '9')
				s->prec = s->prec * 10 + (*f++ - '0');
		}
	}

	enum length len = LEN_INT;
	switch (*f) {
	case 'h':
		len = f[1] == 'h' ? LEN_CHAR : LEN_SHORT;
		f += f[1] == 'h' ? 2 : 1;
		break;
	case 'l':
		len = f[1] == 'l' ? LEN_LLONG : LEN_LONG;
		f += f[1] == 'l' ? 2 : 1;
		break;
	case 'z': len = LEN_SIZE; f++; break;
	case 't': len = LEN_PTRDIFF; f++; break;
	case 'j': len = LEN_MAX; f++; break;
	}
	*pf = f;
	return len;
}

int wisp_vsnprintf(char *buf, size_t size, const char *fmt, va_list ap_in)
{
	struct out o = { .buf = buf, .size = size };
	va_list ap;

	va_copy(ap, ap_in);
	for (const char *f = fmt; *f; f++) {
		if (*f != '%') {
			put(&o, *f);
			continue;
		}
		f++;
		struct spec s;
		enum length len = parse_spec(&f, &s, &ap);
		switch (*f) {
		case 'd':
		case 'i': {
			intmax_t v = get_signed(&ap, len);
			emit_number(&o, &s, v < 0 ? -(uintmax_t)v : (uintmax_t)v, v < 0, 10, false);
			break;
		}
		case 'u':
			emit_number(&o, &s, get_unsigned(&ap, len), false, 10, false);
			break;
		case 'x':
		case 'X':
			emit_number(&o, &s, get_unsigned(&ap, len), false, 16, *f == 'X');
			break;
		case 'o':
			emit_number(&o, &s, get_unsigned(&ap, len), false, 8, false);
			break;
		case 'p': {
			uintptr_t v = (uintptr_t)va_arg(ap, void *);
			s.alt = true;
			if (v == 0)
				emit_string(&o, &s, "0x0");
			else
				emit_number(&o, &s, v, false, 16, false);
			break;
		}
		case 'c': {
			char c = (char)va_arg(ap, int);
			if (!s.left)
				pad(&o, ' ', s.width - 1);
			put(&o, c);
			if (s.left)
				pad(&o, ' ', s.width - 1);
			break;
		}
		case 's':
			emit_string(&o, &s, va_arg(ap, const char *));
			break;
		case '%':
			put(&o, '%');
			break;
		case '\0':	/* a lone % at the end: print it, stop */
			put(&o, '%');
			f--;
			break;
		default:	/* unknown conversion: print it as written */
			put(&o, '%');
			put(&o, *f);
			break;
		}
	}
	va_end(ap);
	if (size)
		buf[o.len < size ? o.len : size - 1] = '\0';
	return (int)o.len;
}

int wisp_snprintf(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	int n = wisp_vsnprintf(buf, size, fmt, ap);
	va_end(ap);
	return n;
}
