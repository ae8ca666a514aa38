// SPDX-License-Identifier: MIT
/* The TCB inside a kernel ELF and its SHA-256 (tcb_image.h). */
#include "domain/tcb_image.h"

#include <elf.h>
#include <errno.h>
#include <gnutls/crypto.h>
#include <stdio.h>
#include <string.h>

static int bad(char *why, size_t len, const char *msg)
{
	snprintf(why, len, "%s", msg);
	return -ENOEXEC;
}

int tcb_image_find(const uint8_t *elf, size_t size, struct tcb_image *out, char *why, size_t whylen)
{
	const Elf64_Ehdr *eh = (const void *)elf;
	const Elf64_Shdr *sh, *tcb = NULL, *sha = NULL, *names;

	memset(out, 0, sizeof(*out));
	if (size < sizeof(*eh) || memcmp(eh->e_ident, ELFMAG, SELFMAG) ||
	    eh->e_ident[EI_CLASS] != ELFCLASS64)
		return bad(why, whylen, "not an ELF64 file");
	if (!eh->e_shnum)
		return -ENOENT;
	if (eh->e_shentsize != sizeof(*sh) || eh->e_shoff > size ||
	    (uint64_t)eh->e_shnum * sizeof(*sh) > size - eh->e_shoff ||
	    eh->e_shstrndx >= eh->e_shnum || eh->e_shoff % 8)
		return bad(why, whylen, "bad section headers");
	sh = (const void *)(elf + eh->e_shoff);
	names = &sh[eh->e_shstrndx];
	if (names->sh_offset > size || names->sh_size > size - names->sh_offset)
		return bad(why, whylen, "bad section name table");
	for (unsigned i = 0; i < eh->e_shnum; i++) {
		const char *n = (const char *)elf + names->sh_offset + sh[i].sh_name;

		if (sh[i].sh_name >= names->sh_size ||
		    !memchr(n, 0, names->sh_size - sh[i].sh_name))
			continue;
		if (!strcmp(n, ".tcb"))
			tcb = &sh[i];
		else if (!strcmp(n, ".tcb_sha256"))
			sha = &sh[i];
	}
	if (!tcb)
		return -ENOENT;
	if (tcb->sh_type != SHT_PROGBITS || tcb->sh_offset > size ||
	    tcb->sh_size > size - tcb->sh_offset || (tcb->sh_addr | tcb->sh_size) % 4096 ||
	    !tcb->sh_size)
		return bad(why, whylen, ".tcb is empty, not page aligned or outside the file");
	if (!sha || sha->sh_size != TCB_SHA256_LEN || sha->sh_offset > size - TCB_SHA256_LEN)
		return bad(why, whylen, "no 32-byte .tcb_sha256 section");
	for (unsigned i = 0; i < eh->e_phnum && !out->size; i++) {
		Elf64_Phdr ph;

		if (eh->e_phoff + (i + 1) * sizeof(ph) > size)
			break;
		memcpy(&ph, elf + eh->e_phoff + i * sizeof(ph), sizeof(ph));
		if (ph.p_type == PT_LOAD && tcb->sh_addr >= ph.p_vaddr &&
		    tcb->sh_addr - ph.p_vaddr < ph.p_filesz &&
		    tcb->sh_size <= ph.p_filesz - (tcb->sh_addr - ph.p_vaddr)) {
			out->gpa = ph.p_paddr + (tcb->sh_addr - ph.p_vaddr);
			out->size = tcb->sh_size;
		}
	}
	if (!out->size)
		return bad(why, whylen, ".tcb is not inside one loaded segment");
	out->va = tcb->sh_addr;
	out->file_off = tcb->sh_offset;
	out->sha_off = sha->sh_offset;
	memcpy(out->recorded, elf + sha->sh_offset, TCB_SHA256_LEN);
	return 0;
}

int tcb_sha256(const void *data, size_t len, uint8_t out[TCB_SHA256_LEN])
{
	return gnutls_hash_fast(GNUTLS_DIG_SHA256, data, len, out) ? -EIO : 0;
}

void tcb_hex(const uint8_t d[TCB_SHA256_LEN], char buf[2 * TCB_SHA256_LEN + 1])
{
	for (int i = 0; i < TCB_SHA256_LEN; i++)
		snprintf(buf + 2 * i, 3, "%02x", d[i]);
}
