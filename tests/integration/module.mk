# Long reliability test, not part of `make check`: kill -9 under load.
check-crash: build
	@CRTOKEN_TOP=$(CURDIR) CRTOKEN_BUILD=$(CURDIR)/$(B) sh tests/integration/crash.sh | tee $(B)/crash.log; \
	p=$$(grep -c '^ok ' $(B)/crash.log); f=$$(grep -c '^not ok ' $(B)/crash.log); \
	echo "$$p passed, $$f failed"; [ $$f -eq 0 ]
.PHONY: check-crash
