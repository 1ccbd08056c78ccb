/*
 * progress.c - the progress line of a big send (see progress.h).
 */
#include "config.h"

#include "progress.h"

#include "util.h"

#define PROGRESS_INTERVAL_MS 250 /* at most 4 updates a second */

/* n bytes in a short human form: "512 B", "3.4 MB" (decimal units). */
static void
human_bytes(double n, char *out, size_t len)
{
	static const char *const units[] = {"B", "kB", "MB", "GB", "TB"};
	size_t u = 0;

	while (n >= 1000.0 && u + 1 < sizeof units / sizeof units[0]) {
		n /= 1000.0;
		u++;
	}
	if (u == 0)
		snprintf(out, len, "%.0f %s", n, units[u]);
	else
		snprintf(out, len, "%.1f %s", n, units[u]);
}

static void
progress_show(struct progress *p, int64_t now)
{
	char done[32], total[32], rate[32];
	double secs = (double)(now - p->start_ms) / 1000.0;
	uint64_t size = p->inner.size ? p->inner.size : 1;
	int percent = (int)(p->done * 100 / size);

	human_bytes((double)p->done, done, sizeof done);
	human_bytes((double)p->inner.size, total, sizeof total);
	human_bytes(secs > 0 ? (double)p->done / secs : 0.0, rate, sizeof rate);
	fprintf(p->out, "\rmailpost: sent %s of %s (%d%%), %s/s   ", done,
	        total, percent > 100 ? 100 : percent, rate);
	p->shown = true;
	p->shown_ms = now;
}

void
progress_end(struct progress *p)
{
	if (!p->shown || p->ended)
		return;
	fputc('\n', p->out);
	p->ended = true;
}

static ssize_t
read_with_progress(void *ctx, char *buf, size_t n, struct error *err)
{
	struct progress *p = ctx;
	ssize_t got = p->inner.read(p->inner.ctx, buf, n, err);
	int64_t now = now_ms();
	bool last =
	    got == 0 || (got > 0 && p->done + (uint64_t)got >= p->inner.size);

	if (got > 0)
		p->done += (uint64_t)got;
	if (got < 0 || p->ended)
		return got;
	if (last || !p->shown || now - p->shown_ms >= PROGRESS_INTERVAL_MS)
		progress_show(p, now);
	if (last)
		progress_end(p);
	return got;
}

/* Another attempt (failover, or the queue) starts the count again. */
static int
rewind_with_progress(void *ctx, struct error *err)
{
	struct progress *p = ctx;

	p->done = 0;
	return p->inner.rewind ? p->inner.rewind(p->inner.ctx, err) : 0;
}

struct message_stream
progress_wrap(struct progress *p, const struct message_stream *m, FILE *out)
{
	*p = (struct progress){.inner = *m, .out = out, .start_ms = now_ms()};
	return (struct message_stream){
	    .read = read_with_progress,
	    .rewind = rewind_with_progress,
	    .ctx = p,
	    .size = m->size,
	    .has_8bit = m->has_8bit,
	    .has_nul = m->has_nul,
	};
}
