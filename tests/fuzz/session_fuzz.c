/*
 * session_fuzz - a whole client session against a hostile server
 * (smtp.c, conn.c, reply.c, and sasl.c when AUTH runs): the input is
 * everything the server sends, written at once on a local socket
 * (conn.c's socket_path) and followed by the end of the stream; mailpost
 * then does what a send does: greeting, EHLO (or LHLO) and the
 * capabilities, AUTH when byte 0 asks for it, MAIL/RCPT/DATA, the body,
 * QUIT.  This covers what reply_fuzz cannot: the EHLO keyword parser,
 * the state machine's judgement of each reply, pipelined reply matching.
 * Checked: every function says what went wrong in a message as error_set
 * leaves it, never with the password in it, and no result counts more
 * recipients than were sent.
 */
#include "config.h"

#include "fuzz.h"

#include <poll.h>
#include <pthread.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "smtp.h"

#define FLAG_AUTH 0x01
#define FLAG_LMTP 0x02
#define FLAG_8BIT 0x04

#define SECRET "pencil-session-secret"

static int listener = -1;
static int wake[2]; /* a byte says: the client is done, stop waiting */
static char sock_path[108];

struct server {
	const uint8_t *data;
	size_t size;
};

static void
remove_socket(void)
{
	unlink(sock_path);
}

static void
listen_once(void)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	const char *dir = getenv("TMPDIR");

	if (listener >= 0)
		return;
	snprintf(sock_path, sizeof sock_path, "%s/session-fuzz-%ld.sock",
	         dir && *dir ? dir : "/tmp", (long)getpid());
	unlink(sock_path);
	str_copy(sa.sun_path, sizeof sa.sun_path, sock_path);
	listener = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (listener < 0 || pipe(wake) < 0 ||
	    bind(listener, (struct sockaddr *)&sa, sizeof sa) < 0 ||
	    listen(listener, 1) < 0)
		abort();
	atexit(remove_socket);
}

/* The server: all its bytes, the end of its stream, then it reads what
 * the client sends until the client closes.  A client that never
 * connects (a bug of the target) is seen by the wake byte. */
static void *
serve(void *arg)
{
	const struct server *s = arg;
	struct pollfd p[2] = {{listener, POLLIN, 0}, {wake[0], POLLIN, 0}};
	char sink[4096];
	size_t off = 0;
	int fd;

	if (poll(p, 2, -1) < 0 || !(p[0].revents & POLLIN))
		return NULL;
	fd = accept(listener, NULL, NULL);
	if (fd < 0)
		return NULL;
	while (off < s->size) {
		ssize_t n =
		    send(fd, s->data + off, s->size - off, MSG_NOSIGNAL);

		if (n <= 0)
			break;
		off += (size_t)n;
	}
	shutdown(fd, SHUT_WR);
	while (recv(fd, sink, sizeof sink, 0) > 0)
		;
	close(fd);
	return NULL;
}

static ssize_t
body_read(void *ctx, char *buf, size_t n, struct error *err)
{
	static const char body[] = "Subject: fuzz\r\n\r\n.leading dot\r\n";
	size_t *pos = ctx, left = sizeof body - 1 - *pos;

	(void)err;
	if (n > left)
		n = left;
	memcpy(buf, body + *pos, n);
	*pos += n;
	return (ssize_t)n;
}

static void
transaction(struct smtp_session *s, bool lmtp, bool eightbit)
{
	struct envelope e;
	struct smtp_envelope env = {0};
	struct smtp_envelope_result res;
	struct reply final[2];
	struct error err;
	size_t pos = 0;
	struct smtp_body_source src = {body_read, &pos};
	bool dot_sent = false;

	envelope_init(&e);
	envelope_set_sender(&e, "a@example.org");
	envelope_add_rcpt(&e, "b@example.org");
	envelope_add_rcpt(&e, "c@example.org");
	env.envelope = &e;
	env.size = 33;
	env.body_8bit = eightbit && smtp_caps(s)->eightbitmime;
	env.all_or_nothing = true;
	smtp_envelope_result_init(&res);
	error_clear(&err);
	if (smtp_envelope(s, &env, &res, &err) < 0) {
		FUZZ_ASSERT(err.kind != ERROR_NONE && fuzz_message_ok(err.msg));
		smtp_envelope_result_clear(&res);
		envelope_clear(&e);
		return;
	}
	FUZZ_ASSERT(res.nrcpt == 2 && res.naccepted <= 2);
	if (res.data.code == 354 && res.naccepted < e.nrcpts) {
		smtp_abort(s); /* all or nothing, as submit.c does */
	} else if (res.data.code == 354) {
		reply_init(&final[0]);
		reply_init(&final[1]);
		if (smtp_body(s, &src, true, final, lmtp ? e.nrcpts : 1,
		              &dot_sent, &err) < 0)
			FUZZ_ASSERT(fuzz_message_ok(err.msg));
		reply_clear(&final[0]);
		reply_clear(&final[1]);
	} else if (res.mail.code == 250 && smtp_reusable(s)) {
		(void)smtp_rset(s, &err);
	}
	smtp_envelope_result_clear(&res);
	envelope_clear(&e);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct smtp_options o = {0};
	struct smtp_session *s = NULL;
	struct server srv;
	struct error err;
	pthread_t th;
	unsigned flags;
	char sink_byte[1];

	if (size < 1)
		return 0;
	listen_once();
	flags = data[0];
	srv.data = data + 1;
	srv.size = size - 1;
	if (pthread_create(&th, NULL, serve, &srv) != 0)
		abort();
	o.target.host = "mx.example.org";
	o.target.port = 25;
	o.target.socket_path = sock_path;
	o.helo_name = "client.example.org";
	o.lmtp = flags & FLAG_LMTP;
	smtp_timeouts_init(&o.timeouts, 5);
	o.tls = SMTP_TLS_OFF;
	if (flags & FLAG_AUTH) {
		o.auth = "on";
		o.user = "user@example.org";
		o.secret = SECRET;
		o.auth_plaintext = true;
	}
	error_clear(&err);
	if (smtp_open(&s, &o, &err) == 0) {
		transaction(s, o.lmtp, flags & FLAG_8BIT);
		smtp_close(s);
	} else {
		FUZZ_ASSERT(err.kind != ERROR_NONE && fuzz_message_ok(err.msg));
		/* Unless the server wrote it itself, the secret it cannot
		 * know never shows (AUTH lines and echoes are redacted). */
		FUZZ_ASSERT(!strstr(err.msg, SECRET) ||
		            memmem(data, size, SECRET, strlen(SECRET)));
	}
	if (write(wake[1], "", 1) != 1)
		abort();
	pthread_join(th, NULL);
	if (read(wake[0], sink_byte, 1) != 1)
		abort();
	return 0;
}
