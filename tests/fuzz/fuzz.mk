# fuzz.mk - the libFuzzer build (GNU make), run by Makefile.am's fuzz-build
# rule: its own copy of the library sources compiled with clang
# -fsanitize=fuzzer-no-link,address,undefined (coverage for the fuzzer,
# memory and undefined-behaviour checks that turn a bug into a crash) in
# $(fm_dir) of the build tree, and one program per target linked with
# -fsanitize=fuzzer (libFuzzer's main).  The normal build (gcc) is not
# touched.  The caller gives fm_srcdir, fm_dir, fm_cc, fm_targets,
# fm_sources (the library's sources), fm_cppflags, fm_sysconfdir,
# fm_cflags, fm_libs (names of their own, so that a CFLAGS given to make
# stays out of it).

sanitize = -fsanitize=address,undefined -fno-sanitize-recover=all \
	-fno-omit-frame-pointer
cflags = -std=c11 -g -O1 $(sanitize) $(fm_cflags)
cppflags = $(fm_cppflags) -DSYSCONFDIR='"$(fm_sysconfdir)"'

# Quiet like the automake rules, unless make V=1.
ifeq ($(V),1)
Q =
say = @:
else
Q = @
say = @echo
endif

lib_objs := $(patsubst src/%.c,$(fm_dir)/lib/%.o,\
	$(filter-out src/cmd/main.c,$(filter %.c,$(fm_sources))))
programs := $(patsubst %,$(fm_dir)/%_fuzz,$(fm_targets))

all: $(programs)

$(fm_dir)/lib/%.o: $(fm_srcdir)/src/%.c
	@mkdir -p $(@D)
	$(say) "  FUZZCC   $@"
	$(Q)$(fm_cc) $(cppflags) $(cflags) -fsanitize=fuzzer-no-link \
		-MMD -MP -c -o $@ $<

$(fm_dir)/libmailpost-fuzz.a: $(lib_objs)
	$(say) "  FUZZAR   $@"
	$(Q)rm -f $@
	$(Q)ar rcs $@ $(lib_objs)

$(fm_dir)/%_fuzz.o: $(fm_srcdir)/tests/fuzz/%_fuzz.c
	@mkdir -p $(@D)
	$(say) "  FUZZCC   $@"
	$(Q)$(fm_cc) $(cppflags) -I$(fm_srcdir)/tests/fuzz $(cflags) \
		-fsanitize=fuzzer-no-link -MMD -MP -c -o $@ $<

$(fm_dir)/%_fuzz: $(fm_dir)/%_fuzz.o $(fm_dir)/libmailpost-fuzz.a
	$(say) "  FUZZLD   $@"
	$(Q)$(fm_cc) $(cflags) -fsanitize=fuzzer -pthread -o $@ $< \
		$(fm_dir)/libmailpost-fuzz.a $(fm_libs)

.PHONY: all
.SECONDARY:
-include $(lib_objs:.o=.d) $(programs:=.d)
