/*
 * bs_test.c - the -bs mode (bs.h) end to end in one process: a client's
 * session written to a pipe, bs_run between it and a file, the account's
 * server a scripted peer (peer.h), the queue in a temporary directory.
 * What the client is told for its final dot is what became of the
 * message (fate_reply): delivered, queued when the server cannot take it
 * now, refused when the server refuses it for good.
 */
#include "config.h"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bs.h"
#include "cli.h"
#include "job.h"
#include "peer.h"
#include "queue.h"
#include "unit.h"
#include "util.h"

#define N(a) (sizeof(a) / sizeof *(a))
#define STEPS_MAX 6

/* What a PHP mailer writes to sendmail -bs. */
#define SESSION                                                                \
	"EHLO web.test\r\n"                                                    \
	"MAIL FROM:<a@x.test>\r\n"                                             \
	"RCPT TO:<b@y.test>\r\n"                                               \
	"DATA\r\n"                                                             \
	"Subject: t\r\n\r\nbody\r\n.\r\n"                                      \
	"QUIT\r\n"

struct bs_case {
	const char *name;
	struct peer_step st[STEPS_MAX]; /* the account's server */
	const char *answer; /* how the client's reply to its dot begins */
	bool queued;        /* an entry in the queue */
};

static const struct bs_case cases[] = {
    {"delivered",
     {{NULL, "220 test.invalid ESMTP\r\n", 0},
      {"EHLO client.test\r\n", "250 test.invalid\r\n", 1},
      {"MAIL FROM:<a@x.test>\r\n", "250 ok\r\n", 1},
      {"RCPT TO:<b@y.test>\r\n", "250 ok\r\n", 1},
      {"DATA\r\n", "354 go\r\n", 1},
      {"\r\n.\r\n", "250 ok\r\n", 1}},
     "250 2.0.0 Ok: delivered\r\n",
     false},
    {"the server busy: queued, and the client told so",
     {{NULL, "421 4.3.2 busy\r\n", 0}},
     "250 2.0.0 Ok: queued as ",
     true},
    {"the recipient refused for good: 550, nothing kept",
     {{NULL, "220 test.invalid ESMTP\r\n", 0},
      {"EHLO client.test\r\n", "250 test.invalid\r\n", 1},
      {"MAIL FROM:<a@x.test>\r\n", "250 ok\r\n", 1},
      {"RCPT TO:<b@y.test>\r\n", "550 5.1.1 no such user\r\n", 1}},
     "550 5.1.1 ",
     false},
};

/* The file's contents (a fresh string), or NULL. */
static char *
contents(const char *path)
{
	FILE *f = fopen(path, "r");
	char *s = xcalloc(1, 4096);

	if (f) {
		size_t n = fread(s, 1, 4095, f);

		s[n] = '\0';
		fclose(f);
	}
	return s;
}

/* A configuration file only its owner reads, as conf.c wants. */
static int
write_conf(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	ssize_t n = fd < 0 ? -1 : write(fd, text, strlen(text));

	if (fd >= 0)
		close(fd);
	return n == (ssize_t)strlen(text) ? 0 : -1;
}

/* The client's reply to its final dot, from everything bs_run wrote: the
 * line after the 354. */
static const char *
dot_reply(const char *out)
{
	const char *p = out ? strstr(out, "\r\n354 ") : NULL;

	return p && (p = strstr(p + 2, "\r\n")) ? p + 2 : "";
}

static size_t
queue_entries(const char *dir)
{
	char path[256];
	size_t n = 0;
	DIR *d;
	struct dirent *de;

	snprintf(path, sizeof path, "%s/queue", dir);
	d = opendir(path);
	if (!d)
		return 0;
	while ((de = readdir(d)))
		n += strlen(de->d_name) == QUEUE_ID_LEN;
	closedir(d);
	return n;
}

static void
run(const struct bs_case *c)
{
	char conf[128], outpath[128], text[512];
	struct peer p;
	struct job job;
	struct error err;
	int in[2], out;
	FILE *diag = tmpfile();
	char *got;
	size_t len;

	if (peer_start(&p, c->st, peer_nsteps(c->st, STEPS_MAX)) < 0 ||
	    pipe(in) < 0 || !diag) {
		CHECK(!"setup");
		return;
	}
	snprintf(conf, sizeof conf, "%s/config", p.dir);
	snprintf(outpath, sizeof outpath, "%s/out", p.dir);
	snprintf(text, sizeof text,
	         "account t\nhost a.test\nsocket %s\nport 25\n"
	         "domain client.test\ntimeout 2\nqueue_dir %s/queue\n"
	         "account default : t\n",
	         p.path, p.dir);
	CHECK_INT(write_conf(conf, text), 0);
	out = open(outpath, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	CHECK(write(in[1], SESSION, strlen(SESSION)) ==
	      (ssize_t)strlen(SESSION));
	close(in[1]);

	memset(&job, 0, sizeof job);
	job_init(&job);
	job.req.mode = CLI_SERVE;
	job.req.config_file = conf;
	error_clear(&err);
	CHECK_INT(bs_run(&job, in[0], out, diag, &err), 0);
	if (err.kind)
		fprintf(stderr, "%s: %s\n", c->name, err.msg);
	memset(&job.req, 0, sizeof job.req); /* not cli_parse's to free */
	job_clear(&job);
	close(in[0]);
	close(out);
	peer_poke(&p);
	free(peer_finish(&p, &len));

	got = contents(outpath);
	if (strncmp(dot_reply(got), c->answer, strlen(c->answer)) != 0)
		fprintf(stderr, "%s: got \"%s\"\n", c->name, got ? got : "");
	CHECK(strncmp(dot_reply(got), c->answer, strlen(c->answer)) == 0);
	CHECK_INT(queue_entries(p.dir), c->queued ? 1 : 0);
	free(got);
	fclose(diag);
	peer_rmtree(p.dir);
}

int
main(void)
{
	signal(SIGPIPE, SIG_IGN);
	for (size_t i = 0; i < N(cases); i++)
		run(&cases[i]);
	return unit_done();
}
