# libcrtoken: the static (PIC) library every part links.
COMMON_SRC := $(wildcard common/*.c)
COMMON_OBJ := $(COMMON_SRC:%.c=$(B)/obj/%.o)

$(B)/obj/common/%.o: common/%.c common/crtoken.h common/internal.h
	@mkdir -p $(@D)
	$(CC) $(BASE_CFLAGS) $(CORE_CFLAGS) -c -o $@ $<

$(LIB): $(COMMON_OBJ)
	@mkdir -p $(@D)
	rm -f $@
	ar rcs $@ $^

BUILD_TARGETS += $(LIB)
