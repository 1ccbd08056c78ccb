/*
 * filetype.c - MIME types from file content through libmagic (see
 * filetype.h).  libmagic is loaded (dynload.h) and its database read
 * only when an attachment needs it, in a short-lived child: the load
 * parses several megabytes, which a plain send never needs, and
 * filetype_guess spares it for text and for common signed formats.
 */
#include "config.h"

#include "filetype.h"

#include <errno.h>
#include <fcntl.h>
#include <magic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "dynload.h"
#include "util.h"

/* How much of a file libmagic may look at: what identifies a file is at
 * its start (ISO 9660's volume descriptor, at 32 KiB, is about the
 * farthest), and libmagic's working memory grows with it (some 3.5 bytes
 * a byte: the buffer, its text conversions), so that a large file would
 * cost more than a small one. */
#define FILETYPE_BYTES_MAX (64 * 1024)
/* How much of a file the signature check reads (tar's is at 257). */
#define HEAD_SIZE 512

/* libmagic's functions, of the types its header gives them. */
static struct magic_api {
	__typeof__(magic_open) *magic_open;
	__typeof__(magic_close) *magic_close;
	__typeof__(magic_setparam) *magic_setparam;
	__typeof__(magic_load) *magic_load;
	__typeof__(magic_descriptor) *magic_descriptor;
} lib;

static const struct dynload_sym magic_syms[] = {
    DYNLOAD_SYM(struct magic_api, magic_open),
    DYNLOAD_SYM(struct magic_api, magic_close),
    DYNLOAD_SYM(struct magic_api, magic_setparam),
    DYNLOAD_SYM(struct magic_api, magic_load),
    DYNLOAD_SYM(struct magic_api, magic_descriptor),
};

/* configure finds MAGIC_SONAME (the library the header belongs to). */
static struct dynload magic_lib = {
    .soname = MAGIC_SONAME,
    .package = MAGIC_PACKAGE,
    .feature = "to type an attachment (or give --attach-type)",
    .syms = magic_syms,
    .nsyms = sizeof magic_syms / sizeof *magic_syms,
    .table = &lib,
};

static magic_t cookie;
static bool tried; /* an open was attempted (do not retry a failure) */

void
filetype_cleanup(void)
{
	if (cookie)
		lib.magic_close(cookie);
	cookie = NULL;
	tried = false;
}

/* The cookie with its database loaded; NULL when libmagic could not
 * open or load it (a fallback type is used then).  -1 with err only when
 * the library itself cannot be loaded. */
static int
get_cookie(magic_t *out, struct error *err)
{
	static bool registered;
	size_t bytes_max = FILETYPE_BYTES_MAX;

	*out = cookie;
	if (cookie || tried)
		return 0;
	if (dynload_open(&magic_lib, err) < 0)
		return -1;
	tried = true;
	if (!registered) {
		atexit(filetype_cleanup);
		registered = true;
	}
	cookie = lib.magic_open(MAGIC_MIME_TYPE | MAGIC_SYMLINK | MAGIC_ERROR);
	if (!cookie)
		return 0;
	/* libmagic reads up to 7 MiB of a file by default (5.4x); the start
	 * of a file is what identifies it, and memory must stay small. */
	lib.magic_setparam(cookie, MAGIC_PARAM_BYTES_MAX, &bytes_max);
	/* libmagic maps the compiled database (5.44: mmap, MAP_PRIVATE), it
	 * does not read it: only the pages its walk touches are resident.
	 * Our own mapping given through magic_load_buffers measured the
	 * same, page for page (bench/README.md, figure 7). */
	if (lib.magic_load(cookie, NULL) != 0) {
		lib.magic_close(cookie);
		cookie = NULL;
	}
	*out = cookie;
	return 0;
}

/* RFC 2045 5.1: token := 1*<any CHAR except SPACE, CTLs, or tspecials>. */
static bool
is_token_char(unsigned char c)
{
	return c > 0x20 && c < 0x7f && !strchr("()<>@,;:\\\"/[]?=", c);
}

static size_t
token_len(const char *s)
{
	size_t i = 0;

	while (s[i] && is_token_char((unsigned char)s[i]))
		i++;
	return i;
}

int
filetype_valid(const char *type)
{
	size_t a = token_len(type);
	size_t b;

	if (a == 0 || a > 127 || type[a] != '/')
		return 0;
	b = token_len(type + a + 1);
	return b > 0 && b <= 127 && type[a + 1 + b] == '\0';
}

/* libmagic's pseudo-types for things that are not content. */
static const char *
fallback_for(const char *got)
{
	if (!got)
		return "application/octet-stream";
	/* "inode/x-empty" (newer) or "application/x-empty" (older): no
	 * bytes at all is trivially plain text. */
	if (strcmp(got, "inode/x-empty") == 0 ||
	    strcmp(got, "application/x-empty") == 0)
		return "text/plain";
	if (str_iprefix(got, "inode/"))
		return "application/octet-stream";
	if (!filetype_valid(got))
		return str_iprefix(got, "text/") ? "text/plain"
		                                 : "application/octet-stream";
	return NULL;
}

int
filetype_detect(int fd, char *type, size_t n, struct error *err)
{
	magic_t m;
	const char *got = NULL;
	const char *fb;

	if (get_cookie(&m, err) < 0) {
		str_copy(type, n, "application/octet-stream");
		return -1;
	}
	/* libmagic reads from the current offset. */
	if (m && lseek(fd, 0, SEEK_SET) == 0)
		got = lib.magic_descriptor(m, fd);
	fb = fallback_for(got);

	str_copy(type, n, fb ? fb : got);
	return 0;
}

/* --- what we can tell ourselves ----------------------------------------- */

/* Text formats by extension (filetype.h, step 2).  Only text types
 * here keep the text treatment (charset, line ends made CRLF); a text
 * format registered elsewhere (JSON, SVG) is sent base64, byte for byte. */
static const struct {
	const char *ext;
	const char *type;
} text_types[] = {
    {"txt", "text/plain"},    {"log", "text/plain"},
    {"eml", "text/plain"}, /* not message/rfc822: see filetype.h */
    {"csv", "text/csv"},      {"tsv", "text/tab-separated-values"},
    {"html", "text/html"},    {"htm", "text/html"},
    {"xml", "text/xml"},      {"json", "application/json"},
    {"svg", "image/svg+xml"}, {"md", "text/markdown"},
    {"ics", "text/calendar"}, {"vcf", "text/vcard"},
    {"css", "text/css"},      {"js", "text/javascript"},
    {"c", "text/x-c"},        {"h", "text/x-c"},
    {"py", "text/x-python"},  {"sh", "text/x-shellscript"},
    {"diff", "text/x-diff"},  {"patch", "text/x-diff"},
};

/* Binary formats by extension, trusted only when the file carries the
 * signature (filetype.h, step 1); a format with several signatures has
 * several rows.  A second signature (sig2 at off2) must match too. */
struct signed_type {
	const char *ext;
	const char *type;
	size_t off;
	const char *sig;
	size_t len;
	size_t off2;
	const char *sig2;
	size_t len2;
};

#define SIG(s) s, sizeof(s) - 1
#define NO_SIG2 0, NULL, 0

#define OOXML(ext, sub)                                                        \
	{                                                                      \
		ext, "application/vnd.openxmlformats-officedocument." sub, 0,  \
		    SIG("PK\x03\x04"), NO_SIG2                                 \
	}
#define OLE2 SIG("\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1")

static const struct signed_type signed_types[] = {
    {"pdf", "application/pdf", 0, SIG("%PDF-"), NO_SIG2},
    {"png", "image/png", 0, SIG("\x89PNG\r\n\x1a\n"), NO_SIG2},
    {"jpg", "image/jpeg", 0, SIG("\xff\xd8\xff"), NO_SIG2},
    {"jpeg", "image/jpeg", 0, SIG("\xff\xd8\xff"), NO_SIG2},
    {"gif", "image/gif", 0, SIG("GIF87a"), NO_SIG2},
    {"gif", "image/gif", 0, SIG("GIF89a"), NO_SIG2},
    {"webp", "image/webp", 0, SIG("RIFF"), 8, SIG("WEBP")},
    {"zip", "application/zip", 0, SIG("PK\x03\x04"), NO_SIG2},
    {"gz", "application/gzip", 0, SIG("\x1f\x8b"), NO_SIG2},
    {"tgz", "application/gzip", 0, SIG("\x1f\x8b"), NO_SIG2},
    {"tar", "application/x-tar", 257, SIG("ustar"), NO_SIG2},
    {"bz2", "application/x-bzip2", 0, SIG("BZh"), NO_SIG2},
    {"xz", "application/x-xz", 0,
     SIG("\xfd"
         "7zXZ\0"),
     NO_SIG2},
    {"7z", "application/x-7z-compressed", 0, SIG("7z\xbc\xaf\x27\x1c"),
     NO_SIG2},
    {"mp3", "audio/mpeg", 0, SIG("ID3"), NO_SIG2},
    {"mp3", "audio/mpeg", 0, SIG("\xff\xfb"), NO_SIG2},
    {"mp3", "audio/mpeg", 0, SIG("\xff\xf3"), NO_SIG2},
    {"mp3", "audio/mpeg", 0, SIG("\xff\xf2"), NO_SIG2},
    {"mp4", "video/mp4", 4, SIG("ftyp"), NO_SIG2},
    {"ogg", "audio/ogg", 0, SIG("OggS"), NO_SIG2},
    {"wav", "audio/wav", 0, SIG("RIFF"), 8, SIG("WAVE")},
    OOXML("docx", "wordprocessingml.document"),
    OOXML("xlsx", "spreadsheetml.sheet"),
    OOXML("pptx", "presentationml.presentation"),
    {"odt", "application/vnd.oasis.opendocument.text", 0, SIG("PK\x03\x04"),
     NO_SIG2},
    {"ods", "application/vnd.oasis.opendocument.spreadsheet", 0,
     SIG("PK\x03\x04"), NO_SIG2},
    {"doc", "application/msword", 0, OLE2, NO_SIG2},
    {"xls", "application/vnd.ms-excel", 0, OLE2, NO_SIG2},
    {"ppt", "application/vnd.ms-powerpoint", 0, OLE2, NO_SIG2},
};

/* The extension of path's last component, without the dot, or NULL. */
static const char *
extension(const char *path)
{
	const char *slash = strrchr(path, '/');
	const char *base = slash ? slash + 1 : path;
	const char *dot = strrchr(base, '.');

	/* ".bashrc" is a name, not an extension. */
	return dot && dot != base && dot[1] ? dot + 1 : NULL;
}

/* Up to HEAD_SIZE first bytes of the file; how many. */
static ssize_t
read_head(int fd, unsigned char *head)
{
	size_t got = 0;

	while (got < HEAD_SIZE) {
		ssize_t r = pread(fd, head + got, HEAD_SIZE - got, (off_t)got);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		got += (size_t)r;
	}
	return (ssize_t)got;
}

static bool
has_sig(const unsigned char *head, size_t n, size_t off, const char *sig,
        size_t len)
{
	return !sig || (off + len <= n && memcmp(head + off, sig, len) == 0);
}

/* Step 1: the type when the extension is a signed format and the file
 * starts as that format does, else NULL. */
static const char *
signed_type(int fd, const char *ext)
{
	unsigned char head[HEAD_SIZE];
	ssize_t n = -2;

	for (size_t i = 0; i < sizeof signed_types / sizeof *signed_types;
	     i++) {
		const struct signed_type *t = &signed_types[i];

		if (!str_ieq(ext, t->ext))
			continue;
		if (n == -2)
			n = read_head(fd, head);
		if (has_sig(head, (size_t)n, t->off, t->sig, t->len) &&
		    has_sig(head, (size_t)n, t->off2, t->sig2, t->len2))
			return t->type;
	}
	return NULL;
}

static const char *
text_type(const char *ext)
{
	for (size_t i = 0; ext && i < sizeof text_types / sizeof *text_types;
	     i++)
		if (str_ieq(ext, text_types[i].ext))
			return text_types[i].type;
	return "text/plain";
}

/* The child of detect_apart: "type" on pfd[1], then _exit (no atexit
 * handlers or stdio buffers of the parent run twice). */
static _Noreturn void
detect_child(int fd, const int pfd[2])
{
	char type[FILETYPE_MAX];
	struct error err;
	size_t len;

	close(pfd[0]);
	error_clear(&err);
	if (filetype_detect(fd, type, sizeof type, &err) < 0)
		_exit(1);
	len = strlen(type);
	/* One write of at most PIPE_BUF bytes to a pipe: atomic. */
	_exit(write(pfd[1], type, len) == (ssize_t)len ? 0 : 1);
}

/* filetype_detect in a child process, so that the pages of the magic
 * database it touches (some 5.8 MB for data that matches nothing, as
 * every entry is then tried) are never in our own memory: the child
 * starts small (file-backed pages are not copied by fork) and is gone
 * before the message is sent.  libmagic itself is loaded here first: a
 * library that cannot be loaded is said here, and the child, which
 * inherits it loaded, peaks some 0.7 MB lower than one that loads it
 * itself.  The child's answer comes through a pipe.  Without a child
 * (fork failed) or without its answer, detection runs here and the
 * database is released right after; but not after a child killed by a
 * signal: libmagic crashed on this file or on its database (one cut
 * short under its mapping: SIGBUS), and would end this run the same
 * way.  The attachment is then application/octet-stream. */
static int
detect_apart(int fd, char *type, size_t n, struct error *err)
{
	char msg[FILETYPE_MAX];
	size_t got = 0;
	int pfd[2], status = 0, rc;
	pid_t pid;

	if (dynload_open(&magic_lib, err) < 0) {
		str_copy(type, n, "application/octet-stream");
		return -1;
	}
	if (pipe(pfd) < 0)
		goto here;
	pid = fork();
	if (pid < 0) {
		close(pfd[0]);
		close(pfd[1]);
		goto here;
	}
	if (pid == 0)
		detect_child(fd, pfd);
	close(pfd[1]);
	while (got < sizeof msg - 1) {
		ssize_t r = read(pfd[0], msg + got, sizeof msg - 1 - got);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		got += (size_t)r;
	}
	close(pfd[0]);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	msg[got] = '\0';
	if (got > 0 && filetype_valid(msg)) {
		str_copy(type, n, msg);
		return 0;
	}
	if (WIFSIGNALED(status)) {
		str_copy(type, n, "application/octet-stream");
		return 0;
	}
here:
	rc = filetype_detect(fd, type, n, err);
	/* About 6 MB: not to be kept while the message is sent. */
	filetype_cleanup();
	return rc;
}

int
filetype_guess(int fd, const char *name, enum filetype_content content,
               char *type, size_t n, struct error *err)
{
	const char *ext = extension(name);
	const char *got = ext ? signed_type(fd, ext) : NULL;

	if (!got && content == FILETYPE_TEXT)
		got = text_type(ext);
	if (got) {
		str_copy(type, n, got);
		return 0;
	}
	return detect_apart(fd, type, n, err);
}

const char *
filetype_extension(const char *type)
{
	if (str_ieq(type, "application/octet-stream"))
		return "bin";
	for (size_t i = 0; i < sizeof signed_types / sizeof *signed_types;
	     i++)
		if (str_ieq(type, signed_types[i].type))
			return signed_types[i].ext;
	for (size_t i = 0; i < sizeof text_types / sizeof *text_types; i++)
		if (str_ieq(type, text_types[i].type))
			return text_types[i].ext;
	return NULL;
}
