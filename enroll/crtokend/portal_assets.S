/* portal_assets.S — the self-service page (enroll/web/) embedded in crtokend
 * at build time with .incbin (paths relative to the top directory), so the
 * binary serves exactly the files in the tree and needs nothing installed
 * beside it. Each asset is start/end symbols; h_portal.c serves them. */
	.section .rodata
	.macro asset name, file
	.global \name, \name\()_end
	.type \name, @object
\name:
	.incbin "\file"
\name\()_end:
	.size \name, . - \name
	.endm
	asset portal_index_html, "enroll/web/index.html"
	asset portal_app_js, "enroll/web/app.js"
	asset portal_app_css, "enroll/web/app.css"
	.section .note.GNU-stack,"",@progbits
