# fish completion for mailpost(1)
# Copyright (C) 2026 the mailpost authors.  GPL-3.0-or-later.

# Account names from the configuration files, in mailpost's lookup order;
# a -C or --file earlier on the line replaces them all.
function __mailpost_accounts
    set -l tokens (commandline -opc)
    set -l files
    set -l n (count $tokens)
    for i in (seq 2 $n)
        switch $tokens[$i]
            case -C --file
                if test $i -lt $n
                    set files $tokens[(math $i + 1)]
                end
                break
            case '--file=*'
                set files (string replace -- --file= '' $tokens[$i])
                break
            case '-C?*'
                set files (string sub -s 3 -- $tokens[$i])
                break
        end
    end
    if not set -q files[1]
        set -q MAILPOST_CONFIG; and set files $MAILPOST_CONFIG
        set -l xdg $HOME/.config
        set -q XDG_CONFIG_HOME; and set xdg $XDG_CONFIG_HOME
        set files $files $xdg/mailpost/config $HOME/.msmtprc $xdg/msmtp/config \
            '@SYSCONFDIR@/mailpost.conf' '@SYSCONFDIR@/msmtprc' /etc/msmtprc
    end
    for f in $files
        test -r $f; or continue
        sed -n 's/^[[:space:]]*account[[:space:]]\{1,\}\([^[:space:]:]\{1,\}\).*/\1/p' $f
    end | sort -u
end

# Queue ids: the entries of the queue directory (--queue-dir earlier on
# the line, else the default one), directories named by 16 hex digits.
function __mailpost_queue_ids
    set -l dir $HOME/.local/state/mailpost/queue
    set -q XDG_STATE_HOME; and set dir $XDG_STATE_HOME/mailpost/queue
    set -l tokens (commandline -opc)
    set -l n (count $tokens)
    for i in (seq 2 $n)
        switch $tokens[$i]
            case --queue-dir
                if test $i -lt $n
                    set dir $tokens[(math $i + 1)]
                end
            case '--queue-dir=*'
                set dir (string replace -- --queue-dir= '' $tokens[$i])
        end
    end
    test -d $dir; or return
    for d in $dir/*/
        string match -qr '^[0-9a-f]{16}$' -- (basename $d); and basename $d
    end
end

# Recipients are addresses, not files.
complete -c mailpost -f

# message and envelope
complete -c mailpost -s t -l read-recipients -d 'Also send to the To, Cc and Bcc recipients'
complete -c mailpost -s i -d 'A lone dot does not end the message'
complete -c mailpost -o oi -d 'A lone dot does not end the message'
complete -c mailpost -s f -x -d 'Envelope sender (empty: null sender)'
complete -c mailpost -s r -x -d 'Envelope sender (empty: null sender)'
complete -c mailpost -s F -x -d 'Full name for an added From header'
complete -c mailpost -s N -l dsn-notify -x -a 'never success failure delay success,failure success,failure,delay' -d 'DSN: when to notify'
complete -c mailpost -s R -l dsn-return -x -a 'full hdrs' -d 'DSN: what to return'
complete -c mailpost -l read-envelope-from -d 'The sender is the address in the From field'
complete -c mailpost -s V -x -d 'DSN: envelope identifier'

# composing a message (mailx)
complete -c mailpost -s s -l subject -x -d 'Compose: the subject'
complete -c mailpost -s a -l attach -r -F -d 'Compose: attach a file'
complete -c mailpost -l attach-type -x -a 'application/pdf application/octet-stream application/zip text/plain text/csv text/html image/png image/jpeg' -d 'Media type of the -a before'
complete -c mailpost -l attach-name -x -d 'File name shown for the -a before'
complete -c mailpost -s c -l cc -x -d 'Compose: a Cc recipient'
complete -c mailpost -l bcc -x -d 'Compose: a Bcc recipient'
complete -c mailpost -s b -x -d 'Mode letter (m, s, p, i), else a Bcc address'
complete -c mailpost -s H -l header -x -d "Compose: add a header field ('Name: value')"
complete -c mailpost -l body -x -d 'Compose: the body text'
complete -c mailpost -l body-file -r -F -d 'Compose: the body text from a file'
complete -c mailpost -l html -r -F -d 'Compose: an HTML alternative of the body'
complete -c mailpost -l from -x -d 'Compose: the From field (and sender without -f)'
complete -c mailpost -l reply-to -x -d 'Compose: the Reply-To field'
complete -c mailpost -l priority -x -a 'high normal low' -d 'Compose: X-Priority and Importance'
complete -c mailpost -l dry-run -d 'Write the message to stdout instead of sending'
complete -c mailpost -l print -d 'Write the message to stdout instead of sending'
complete -c mailpost -l quiet -d 'No progress line'
complete -c mailpost -l timing -d 'Show each reply\'s latency in the transcript (implies -v)'
complete -c mailpost -l show-auth -d 'Show the AUTH exchange decoded, credentials included'
complete -c mailpost -l color -x -a 'auto\t"On a terminal without NO_COLOR" always never' -d 'Colour the transcript'
complete -c mailpost -l json -d 'The result as one JSON object per message on stdout'

# server and account
complete -c mailpost -s C -l file -r -F -d 'Read this configuration file'
complete -c mailpost -s A -l account -x -a '(__mailpost_accounts)' -d 'Use this account'
complete -c mailpost -l host -x -a '(__fish_print_hostnames)' -d 'Submit to this server'
complete -c mailpost -l port -x -d 'Server port (1-65535)'
complete -c mailpost -l proxy-host -x -a '(__fish_print_hostnames)' -d 'Go through this SOCKS5 proxy'
complete -c mailpost -l proxy-port -x -d 'SOCKS5 proxy port (default 1080)'
complete -c mailpost -l socket -r -F -d 'Connect to this local socket instead'
complete -c mailpost -l timeout -x -d 'Network timeout in seconds'
complete -c mailpost -l domain -x -d 'Name to give in EHLO'
complete -c mailpost -l ehlo -x -d 'Name to give in EHLO (as --domain)'
complete -c mailpost -l rcpt-policy -x -a 'all\t"Every recipient or nothing" any\t"Send to the accepted ones"' -d 'When some recipients are refused'
complete -c mailpost -l deliver -x -a 'mx\t"Straight to the MX hosts" relay\t"Through the configured server"' -d 'Where the message goes'

# transport security and authentication (no password option: argv is public)
complete -c mailpost -l tls -f -a 'on off' -d 'Use TLS (--tls=on|off)'
complete -c mailpost -l tls-starttls -f -a 'on off' -d 'STARTTLS (on) or implicit TLS (off)'
complete -c mailpost -l tls-trust-file -r -F -d 'CA certificates (PEM), or system'
complete -c mailpost -l tls-crl-file -r -F -d 'Revoked certificates (PEM)'
complete -c mailpost -l tls-fingerprint -x -d 'Accept exactly the certificate with this SHA-256'
complete -c mailpost -l tls-certcheck -f -a 'on off' -d 'Verify the server certificate'
complete -c mailpost -l tls-cert-file -r -F -d 'Client certificate (PEM)'
complete -c mailpost -l tls-key-file -r -F -d 'Client certificate key (PEM)'
complete -c mailpost -l tls-priorities -x -d 'GnuTLS priority string'
complete -c mailpost -l tls-host-override -x -a '(__fish_print_hostnames)' -d 'Name the certificate must carry'
complete -c mailpost -l tls-session-cache -f -a 'on off' -d 'Resume the TLS session an earlier run kept'
complete -c mailpost -l auth -f -a 'on off plain login scram-sha-256 scram-sha-1 cram-md5 external gssapi oauthbearer xoauth2 ntlm digest-md5' -d 'Authenticate (--auth=on|off|METHOD)'
complete -c mailpost -l user -x -d 'User name to authenticate as'
complete -c mailpost -l smtp-smuggling-test -d 'Probe the server named with --host for SMTP smuggling'
complete -c mailpost -l oauth2-login -d 'Log the account in with its OAuth2 provider, keep the refresh token'
complete -c mailpost -l configure -x -d 'Find the address\'s submission server, probe it, print an account'
complete -c mailpost -l oauth2-flow -x -a 'device\t"A code entered on any device" browser\t"A browser here, a loopback redirect"' -d 'With --oauth2-login: how to give consent'
complete -c mailpost -l passwordeval -x -a '(__fish_complete_command)' -d 'Command that prints the password'
complete -c mailpost -l password-fd -x -d 'Read the password from this descriptor'
complete -c mailpost -l password-env -x -a '(set -xn)' -d 'Environment variable holding the password'
complete -c mailpost -l protocol -x -a 'smtp lmtp' -d 'The protocol'
complete -c mailpost -l auth-mechanism -x -a 'PLAIN LOGIN SCRAM-SHA-256 SCRAM-SHA-1 CRAM-MD5 EXTERNAL GSSAPI OAUTHBEARER XOAUTH2 NTLM DIGEST-MD5' -d 'Authenticate with this SASL mechanism'

# testing a server
complete -c mailpost -l quit-after -x -a 'connect greeting ehlo tls auth mail rcpt data' -d 'Stop after this step, then QUIT'
complete -c mailpost -l test -f -d 'Send a built-in test message'
complete -c mailpost -l no-pipelining -f -d 'One command, one reply'
complete -c mailpost -l no-chunking -f -d 'The body with DATA, never BDAT'

# msmtp's logging and header settings (called as msmtp, -X is --logfile,
# -a the account, -d --debug, -P --pretend)
complete -c mailpost -l logfile -r -F -d "A line per message, in msmtp's format"
complete -c mailpost -l logfile-time-format -x -d 'strftime format of the log time stamps'
complete -c mailpost -l syslog -f -a 'on off LOG_USER LOG_MAIL LOG_LOCAL0 LOG_LOCAL1 LOG_LOCAL2 LOG_LOCAL3 LOG_LOCAL4 LOG_LOCAL5 LOG_LOCAL6 LOG_LOCAL7' -d 'A line per message to syslog'
complete -c mailpost -l aliases -r -F -d 'Aliases file for local recipients'
complete -c mailpost -l set-from-header -f -a 'auto on off' -d 'When to set From'
complete -c mailpost -l set-date-header -f -a 'auto off' -d 'When to set Date'
complete -c mailpost -l set-msgid-header -f -a 'auto off' -d 'When to set Message-ID'
complete -c mailpost -l add-missing-from-header -f -a 'on off' -d 'Add From when missing'
complete -c mailpost -l add-missing-date-header -f -a 'on off' -d 'Add Date when missing'
complete -c mailpost -l remove-bcc-headers -f -a 'on off' -d 'Remove Bcc fields'
complete -c mailpost -l undisclosed-recipients -f -a 'on off' -d 'Replace To, Cc and Bcc with undisclosed-recipients'

# the queue
complete -c mailpost -l queue -x -a 'never\t"Report a temporary failure (exit 75)" on-failure\t"Queue on a temporary failure" always\t"Queue without trying"' -d 'When to queue a message'
complete -c mailpost -l queue-dir -x -a '(__fish_complete_directories)' -d 'The queue directory'
complete -c mailpost -l dead-letter -r -F -a 'off' -d "Where undeliverable mail is saved ('off': nowhere)"

# modes
complete -c mailpost -o bm -d 'Send a message (the default)'
complete -c mailpost -o bs -d 'Speak SMTP on standard input and output'
complete -c mailpost -o bp -d 'List the queue'
complete -c mailpost -o bi -d 'Do nothing (as newaliases)'
complete -c mailpost -s q -d 'Send every queued message now'
complete -c mailpost -l flush -d 'Send every queued message now'
complete -c mailpost -l due -d 'With -q: only the messages that are due (for timers)'
complete -c mailpost -o qf -d 'Send the queue (in the foreground: the same)'
complete -c mailpost -o qI -x -a '(__mailpost_queue_ids)' -d 'Send the queued messages whose id contains this'
complete -c mailpost -o qR -x -d 'Send the queued messages with a recipient containing this'
complete -c mailpost -o qS -x -d 'Send the queued messages whose sender contains this'
complete -c mailpost -l queue-show -x -a '(__mailpost_queue_ids)' -d 'Show a queued message'
complete -c mailpost -l queue-remove -x -a '(__mailpost_queue_ids)' -d 'Remove a message from the queue'

# other
complete -c mailpost -s v -l verbose -d 'Show the SMTP dialogue (twice: with the body)'
complete -c mailpost -l debug -d 'Show the SMTP dialogue (as -v)'
complete -c mailpost -l pretend -d 'Print the settings a send would use and check them (as --check-config)'
complete -c mailpost -l check-config -d 'Print the settings a send would use and check them, without connecting'
complete -c mailpost -l connect -d 'With --check-config: then probe the server as --serverinfo'
complete -c mailpost -l serverinfo -d 'Show what the server offers: capabilities, TLS, certificates'
complete -c mailpost -l tls-get-peer-cert -r -F -d "Write the server's certificate chain (PEM)"
complete -c mailpost -l help -d 'Show the help and exit'
complete -c mailpost -l version -d 'Show the version and exit'

# accepted and ignored, as sendmail's callers pass them
complete -c mailpost -s O -x -d 'sendmail option=value (ignored)'
complete -c mailpost -s B -x -a '7BIT 8BITMIME' -d 'Body type (ignored)'
complete -c mailpost -s L -x -d 'Syslog tag (ignored)'
complete -c mailpost -s X -r -F -d 'Traffic log file (ignored, never written)'
complete -c mailpost -s h -x -d 'Hop count (ignored)'
complete -c mailpost -s p -x -d 'Protocol (ignored)'
complete -c mailpost -s U -d 'Initial submission (ignored)'
complete -c mailpost -s m -d 'Me too (ignored)'
complete -c mailpost -s n -d 'No aliasing (ignored)'
complete -c mailpost -s G -d 'Gateway submission (ignored)'
