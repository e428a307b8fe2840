/* conf_sample.S — embeds the documented sample crtoken.conf (repo root) so
 * `crtoken-admin init` writes exactly the file the docs describe. */
	.section .rodata
	.global crt_conf_sample
	.type crt_conf_sample, @object
crt_conf_sample:
	.incbin "crtoken.conf"
	.byte 0
	.size crt_conf_sample, . - crt_conf_sample
	.section .note.GNU-stack,"",@progbits
