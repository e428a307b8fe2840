# libcrtoken: the static (PIC) library every part links.
COMMON_SRC := $(wildcard common/*.c common/store/*.c common/rules/*.c)
COMMON_HDR := common/crtoken.h common/internal.h $(wildcard common/store/*.h common/rules/*.h)
COMMON_OBJ := $(COMMON_SRC:%.c=$(B)/obj/%.o) $(B)/obj/common/conf_sample.o

$(B)/obj/common/%.o: common/%.c $(COMMON_HDR)
	@mkdir -p $(@D)
	$(CC) $(BASE_CFLAGS) $(CORE_CFLAGS) -c -o $@ $<

# The sample config is embedded with .incbin (path relative to the top dir).
$(B)/obj/common/conf_sample.o: common/conf_sample.S crtoken.conf
	@mkdir -p $(@D)
	$(CC) -c -o $@ $<

$(LIB): $(COMMON_OBJ)
	@mkdir -p $(@D)
	rm -f $@
	ar rcs $@ $^

BUILD_TARGETS += $(LIB)
