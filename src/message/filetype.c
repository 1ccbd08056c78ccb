/*
 * filetype.c - MIME types of attachments (see filetype.h): by their
 * signature, by their name through the system's mime.types, and through
 * libmagic for what neither tells.  libmagic is loaded (dynload.h) and
 * its database read only when an attachment needs it, in a short-lived
 * child: for data it cannot identify it walks most of its database, some
 * 6 to 7 MB of pages, which is why it comes last.
 */
#include "config.h"

#include "filetype.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <magic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "dynload.h"
#include "mimetypes.h"
#include "privilege.h"
#include "util.h"

/* How much of a file libmagic may look at: what identifies a file is at
 * its start (ISO 9660's volume descriptor, at 32 KiB, is about the
 * farthest), and libmagic's working memory grows with it (some 3.5 bytes
 * a byte: the buffer, its text conversions), so that a large file would
 * cost more than a small one. */
#define FILETYPE_BYTES_MAX (64 * 1024)
/* How much of a file the signature check reads (tar's is at 257). */
#define HEAD_SIZE 512
/* mime.types(5): Debian's media-types package, as mutt and others read it. */
#define FILETYPE_SYSTEM_TABLE "/etc/mime.types"

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
	if (!mimetypes_valid(got))
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

/* Text formats by extension (filetype.h, step 4).  Only text types
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

/* Formats told by their first bytes (filetype.h, step 2): the first row
 * whose signature (sig at off) and second signature (sig2 at off2, or
 * anywhere in the head for SIG_ANYWHERE) match wins.  Each signature is
 * long enough, or has a byte text never holds, that a file of another
 * format or a text does not match it by chance; the few that are not
 * (an MP3 frame header, an icon's) count only under their extension, as
 * do the kinds of a container (ZIP, OLE2) that only the name tells.  A
 * row without a type is a container of a kind the name did not tell:
 * libmagic, which looks inside, decides.  ext is the type's usual
 * extension, for filetype_extension. */
struct signature {
	const char *type;
	const char *ext;
	bool by_name; /* only when the name's extension is ext */
	size_t off;
	const char *sig;
	size_t len;
	size_t off2;
	const char *sig2;
	size_t len2;
};

#define SIG(s) s, sizeof(s) - 1
#define NO_SIG2 0, NULL, 0
#define SIG_ANYWHERE SIZE_MAX

#define ANY false    /* whatever the name */
#define BY_NAME true /* only under its extension */

#define ZIP SIG("PK\x03\x04")
#define OLE2 SIG("\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1")
#define OOXML(ext, sub)                                                        \
	{                                                                      \
		"application/vnd.openxmlformats-officedocument." sub, ext,     \
		    BY_NAME, 0, ZIP, NO_SIG2                                   \
	}
#define ODF(ext, sub)                                                          \
	{                                                                      \
		"application/vnd.oasis.opendocument." sub, ext, BY_NAME, 0,    \
		    ZIP, NO_SIG2                                               \
	}
/* ISO base media files (MP4, QuickTime, HEIF): "ftyp" and a brand. */
#define FTYP(type, ext, brand)                                                 \
	{                                                                      \
		type, ext, ANY, 4, SIG("ftyp"), 8, SIG(brand)                  \
	}
#define RIFF(type, ext, form)                                                  \
	{                                                                      \
		type, ext, ANY, 0, SIG("RIFF"), 8, SIG(form)                   \
	}
#define EBML SIG("\x1a\x45\xdf\xa3")
/* ELF's e_type at 16, in either byte order. */
#define ELF(type, e_type)                                                      \
	{                                                                      \
		type, NULL, ANY, 0, SIG("\177ELF"), 16, SIG(e_type)            \
	}

static const struct signature signatures[] = {
    /* Documents. */
    {"application/pdf", "pdf", ANY, 0, SIG("%PDF-"), NO_SIG2},
    {"application/postscript", "ps", ANY, 0, SIG("%!PS"), NO_SIG2},
    {"application/rtf", "rtf", ANY, 0, SIG("{\\rtf"), NO_SIG2},
    OOXML("docx", "wordprocessingml.document"),
    OOXML("xlsx", "spreadsheetml.sheet"),
    OOXML("pptx", "presentationml.presentation"),
    ODF("odt", "text"),
    ODF("ods", "spreadsheet"),
    ODF("odp", "presentation"),
    {"application/epub+zip", "epub", BY_NAME, 0, ZIP, NO_SIG2},
    {"application/java-archive", "jar", BY_NAME, 0, ZIP, NO_SIG2},
    {"application/zip", "zip", ANY, 0, ZIP, NO_SIG2},
    {"application/msword", "doc", BY_NAME, 0, OLE2, NO_SIG2},
    {"application/vnd.ms-excel", "xls", BY_NAME, 0, OLE2, NO_SIG2},
    {"application/vnd.ms-powerpoint", "ppt", BY_NAME, 0, OLE2, NO_SIG2},
    {"application/vnd.ms-outlook", "msg", BY_NAME, 0, OLE2, NO_SIG2},
    {"application/x-msi", "msi", BY_NAME, 0, OLE2, NO_SIG2},
    {NULL, NULL, ANY, 0, OLE2, NO_SIG2},
    {"application/vnd.sqlite3", "sqlite", ANY, 0, SIG("SQLite format 3\0"),
     NO_SIG2},
    /* Images. */
    {"image/png", "png", ANY, 0, SIG("\x89PNG\r\n\x1a\n"), NO_SIG2},
    {"image/jpeg", "jpg", ANY, 0, SIG("\xff\xd8\xff"), NO_SIG2},
    {"image/gif", "gif", ANY, 0, SIG("GIF87a"), NO_SIG2},
    {"image/gif", "gif", ANY, 0, SIG("GIF89a"), NO_SIG2},
    RIFF("image/webp", "webp", "WEBP"),
    {"image/tiff", "tiff", ANY, 0, SIG("II*\0"), NO_SIG2},
    {"image/tiff", "tiff", ANY, 0, SIG("MM\0*"), NO_SIG2},
    /* "BM", then a reserved 32-bit field that is zero. */
    {"image/bmp", "bmp", ANY, 0, SIG("BM"), 6, SIG("\0\0\0\0")},
    {"image/vnd.microsoft.icon", "ico", BY_NAME, 0, SIG("\0\0\1\0"), NO_SIG2},
    FTYP("image/heic", "heic", "heic"),
    FTYP("image/heic", "heic", "heix"),
    FTYP("image/heif", "heif", "mif1"),
    FTYP("image/avif", "avif", "avif"),
    /* Archives and compressed data. */
    {"application/gzip", "gz", ANY, 0, SIG("\x1f\x8b\x08"), NO_SIG2},
    {"application/x-bzip2", "bz2", ANY, 0, SIG("BZh"), 4, SIG("1AY&SY")},
    {"application/x-xz", "xz", ANY, 0, SIG("\3757zXZ\0"), NO_SIG2},
    {"application/zstd", "zst", ANY, 0, SIG("\x28\xb5\x2f\xfd"), NO_SIG2},
    {"application/x-7z-compressed", "7z", ANY, 0, SIG("7z\xbc\xaf\x27\x1c"),
     NO_SIG2},
    {"application/vnd.rar", "rar", ANY, 0, SIG("Rar!\x1a\x07\0"), NO_SIG2},
    {"application/vnd.rar", "rar", ANY, 0, SIG("Rar!\x1a\x07\1\0"), NO_SIG2},
    {"application/x-tar", "tar", ANY, 257, SIG("ustar\0"), NO_SIG2},
    {"application/x-tar", "tar", ANY, 257, SIG("ustar  \0"), NO_SIG2},
    /* Audio and video. */
    {"audio/mpeg", "mp3", ANY, 0, SIG("ID3"), 4, SIG("\0")},
    {"audio/mpeg", "mp3", BY_NAME, 0, SIG("\xff\xfb"), NO_SIG2},
    {"audio/mpeg", "mp3", BY_NAME, 0, SIG("\xff\xf3"), NO_SIG2},
    {"audio/mpeg", "mp3", BY_NAME, 0, SIG("\xff\xf2"), NO_SIG2},
    {"audio/flac", "flac", ANY, 0, SIG("fLaC"), NO_SIG2},
    {"video/ogg", "ogv", ANY, 0, SIG("OggS\0"), 28, SIG("\x80theora")},
    {"audio/ogg", "ogg", ANY, 0, SIG("OggS\0"), NO_SIG2},
    RIFF("audio/wav", "wav", "WAVE"),
    RIFF("video/x-msvideo", "avi", "AVI "),
    FTYP("video/quicktime", "mov", "qt  "),
    FTYP("audio/mp4", "m4a", "M4A "),
    FTYP("video/3gpp", "3gp", "3gp"),
    {"video/mp4", "mp4", ANY, 4, SIG("ftyp"), NO_SIG2},
    /* EBML's DocType element (0x4282), its length, the name. */
    {"video/webm", "webm", ANY, 0, EBML, SIG_ANYWHERE, SIG("\x42\x82\x84webm")},
    {"video/x-matroska", "mkv", ANY, 0, EBML, SIG_ANYWHERE,
     SIG("\x42\x82\x88matroska")},
    /* Programs: relocatable, executable, shared object (and PIE). */
    ELF("application/x-object", "\1\0"),
    ELF("application/x-object", "\0\1"),
    ELF("application/x-executable", "\2\0"),
    ELF("application/x-executable", "\0\2"),
    ELF("application/x-sharedlib", "\3\0"),
    ELF("application/x-sharedlib", "\0\3"),
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
static size_t
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
	return got;
}

static bool
has_sig(const unsigned char *head, size_t n, size_t off, const char *sig,
        size_t len)
{
	if (!sig)
		return true;
	if (off == SIG_ANYWHERE) {
		for (size_t i = 0; i + len <= n; i++)
			if (memcmp(head + i, sig, len) == 0)
				return true;
		return false;
	}
	return off + len <= n && memcmp(head + off, sig, len) == 0;
}

/* Step 2: the row of signatures the file's first bytes match, given its
 * name's extension ext (NULL: none), else NULL. */
static const struct signature *
signature_of(int fd, const char *ext)
{
	unsigned char head[HEAD_SIZE];
	size_t n = read_head(fd, head);

	for (size_t i = 0; i < sizeof signatures / sizeof *signatures; i++) {
		const struct signature *s = &signatures[i];

		if (s->by_name && !(ext && str_ieq(ext, s->ext)))
			continue;
		if (has_sig(head, n, s->off, s->sig, s->len) &&
		    has_sig(head, n, s->off2, s->sig2, s->len2))
			return s;
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

/* The system's table of types by extension (mimetypes.h), read when a
 * binary file first needs it and kept for the rest of the run. */
static struct mimetypes *table;

static void
table_free(void)
{
	mimetypes_free(table);
	table = NULL;
}

/* The system's table: MAILPOST_TEST_MIME_TYPES stands in for it in the
 * test suite, except in a setgid run, which no test variable steers. */
static const char *
system_table(void)
{
	const char *test = privilege_was_setgid()
	                       ? NULL
	                       : privilege_getenv("MAILPOST_TEST_MIME_TYPES");

	return test && *test ? test : FILETYPE_SYSTEM_TABLE;
}

/* Step 3: the type the system's table, then the user's ~/.mime.types
 * (which wins), give extension ext; NULL for none, and for a text type:
 * the content is not text, so the name is wrong or the text is in an
 * encoding libmagic may know (UTF-16). */
static const char *
table_type(const char *ext)
{
	const char *home, *got;

	if (!table) {
		table = mimetypes_new();
		atexit(table_free);
		mimetypes_load(table, system_table());
		/* As the caller: the group of a setgid run is gone before
		 * any attachment is opened. */
		home = privilege_getenv("HOME");
		if (home && home[0] == '/') {
			char path[PATH_MAX];

			if (snprintf(path, sizeof path, "%s/.mime.types",
			             home) < (int)sizeof path)
				mimetypes_load(table, path);
		}
	}
	got = mimetypes_lookup(table, ext);
	return got && !str_iprefix(got, "text/") ? got : NULL;
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
	if (got > 0 && mimetypes_valid(msg)) {
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
	const struct signature *sig = signature_of(fd, ext);
	const char *got = NULL;

	if (sig)
		got = sig->type; /* NULL: a container only libmagic can tell */
	else if (content == FILETYPE_TEXT)
		got = text_type(ext);
	else if (ext)
		got = table_type(ext);
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
	for (size_t i = 0; i < sizeof signatures / sizeof *signatures; i++)
		if (signatures[i].type && signatures[i].ext &&
		    str_ieq(type, signatures[i].type))
			return signatures[i].ext;
	for (size_t i = 0; i < sizeof text_types / sizeof *text_types; i++)
		if (str_ieq(type, text_types[i].type))
			return text_types[i].ext;
	return NULL;
}
