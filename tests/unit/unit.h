/*
 * unit.h - the smallest test harness that says what differed.
 *
 * Each unit test program includes this once, calls the CHECK macros from
 * its test functions, and returns unit_done() from main(), which prints the
 * closing line "N passed, N failed" and yields the exit status.
 */
#ifndef MAILPOST_UNIT_H
#define MAILPOST_UNIT_H

#include <stdio.h>
#include <string.h>

static int unit_passed;
static int unit_failed;

static void unit_report(int ok, const char *file, int line, const char *what)
{
	if (ok) {
		unit_passed++;
		return;
	}
	unit_failed++;
	fprintf(stderr, "%s:%d: FAILED: %s\n", file, line, what);
}

#define CHECK(cond) unit_report(!!(cond), __FILE__, __LINE__, #cond)

#define CHECK_INT(got, want)                                                   \
	do {                                                                   \
		long long g_ = (long long)(got), w_ = (long long)(want);       \
		char m_[256];                                                  \
		snprintf(m_, sizeof m_, "%s == %s: got %lld, want %lld", #got, \
			 #want, g_, w_);                                       \
		unit_report(g_ == w_, __FILE__, __LINE__, m_);                 \
	} while (0)

#define CHECK_STR(got, want)                                                   \
	do {                                                                   \
		const char *g_ = (got), *w_ = (want);                          \
		char m_[1024];                                                 \
		snprintf(m_, sizeof m_, "%s: got \"%.400s\", want \"%.400s\"", \
			 #got,                                                 \
			 g_ ? g_ : "(null)", w_ ? w_ : "(null)");              \
		unit_report(g_ && w_ ? strcmp(g_, w_) == 0 : g_ == w_,         \
			    __FILE__, __LINE__, m_);                           \
	} while (0)

/* Compare n bytes; on a difference say where. */
#define CHECK_MEM(got, got_len, want, want_len)                                \
	do {                                                                   \
		const char *g_ = (const char *)(got);                          \
		const char *w_ = (const char *)(want);                         \
		size_t gl_ = (got_len), wl_ = (want_len), i_ = 0;              \
		char m_[256];                                                  \
		while (i_ < gl_ && i_ < wl_ && g_[i_] == w_[i_])               \
			i_++;                                                  \
		snprintf(m_, sizeof m_,                                        \
			 "%s: %zu bytes, want %zu; first difference at %zu",   \
			 #got, gl_, wl_, i_);                                  \
		unit_report(gl_ == wl_ && i_ == gl_, __FILE__, __LINE__, m_);  \
	} while (0)

static int unit_done(void)
{
	printf("%d passed, %d failed\n", unit_passed, unit_failed);
	return unit_failed ? 1 : 0;
}

#endif
