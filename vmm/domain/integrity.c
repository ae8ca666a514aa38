// SPDX-License-Identifier: MIT
/* Kernel code integrity: read-only text, validated patching (integrity.h). */
#include "domain/integrity.h"

#include <elf.h>
#include <errno.h>
#include <linux/kvm.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include "abi/vessel.h"
#include "core/exit.h"
#include "core/hooks.h"
#include "core/hypercall.h"
#include "core/vcpu.h"
#include "core/vm.h"
#include "domain/domain.h"
#include "domain/tcb_image.h"
#include "lib/x86dec.h"

#define INTEG_MAX_SEGS 4

/* A read-only PT_LOAD segment of the kernel: where it runs, where it is. */
struct integ_seg {
	uint64_t va, gpa, size;
	bool exec;
};

struct integrity {
	struct vm *vm;
	enum integrity_mode mode;
	struct integ_seg seg[INTEG_MAX_SEGS];
	unsigned nseg;
	uint64_t text_lo, text_hi; /* virtual range of the executable segments */
	pthread_mutex_t lock;	   /* sites, registered */
	bool registered;
	struct vessel_patch_site sites[VESSEL_PATCH_SITES_MAX];
	unsigned nsites;
	uint64_t patches, patch_refused, writes_refused; /* relaxed atomics */
	bool has_tcb;
	struct tcb_image tcb; /* the kernel's TCB, when has_tcb */
};

static const struct vm_hook_ops integrity_hooks;

int integrity_parse_mode(const char *s, enum integrity_mode *mode)
{
	if (!strcmp(s, "on"))
		*mode = INTEGRITY_ON;
	else if (!strcmp(s, "report"))
		*mode = INTEGRITY_REPORT;
	else if (!strcmp(s, "off"))
		*mode = INTEGRITY_OFF;
	else
		return -EINVAL;
	return 0;
}

static const char *const mode_names[] = { "off", "on", "report" };

/* The segment holding [va, va + len), or NULL. */
static const struct integ_seg *seg_of_va(const struct integrity *in, uint64_t va, uint64_t len)
{
	for (unsigned i = 0; i < in->nseg; i++) {
		const struct integ_seg *s = &in->seg[i];

		if (va >= s->va && va - s->va < s->size && len <= s->size - (va - s->va))
			return s;
	}
	return NULL;
}

static const struct integ_seg *seg_of_gpa(const struct integrity *in, uint64_t gpa)
{
	for (unsigned i = 0; i < in->nseg; i++)
		if (gpa >= in->seg[i].gpa && gpa - in->seg[i].gpa < in->seg[i].size)
			return &in->seg[i];
	return NULL;
}

int integrity_check_code(const uint8_t *code, size_t len, uint64_t at, uint64_t text_lo,
			 uint64_t text_hi, char *why, size_t whylen)
{
	size_t off = 0;

	while (off < len) {
		struct x86_insn in;
		int n;

		if (code[off] == 0xcc) { /* int3: the filler of unused bytes */
			off++;
			continue;
		}
		n = x86_decode(code + off, len - off, &in);
		if (n < 0) {
			snprintf(why, whylen, "byte %zu (%02x): %s", off, code[off],
				 n == -ERANGE ? "instruction cut off at the end" :
						"not an allowed instruction");
			return -EPERM;
		}
		switch (in.op) {
		case X86_OP_NOP:
		case X86_OP_RET:
			break;
		case X86_OP_CMP:
		case X86_OP_TEST:
		case X86_OP_MOV:
			if (x86_insn_has_mem(&in)) {
				snprintf(why, whylen, "byte %zu: %s with a memory operand", off,
					 x86_op_name(in.op));
				return -EPERM;
			}
			break;
		case X86_OP_JMP:
		case X86_OP_JCC: {
			uint64_t to = at + off + (uint64_t)n + (uint64_t)in.imm;

			if (to < text_lo || to >= text_hi) {
				snprintf(why, whylen, "byte %zu: %s to %#llx, outside kernel text",
					 off, x86_op_name(in.op), (unsigned long long)to);
				return -EPERM;
			}
			break;
		}
		default:
			snprintf(why, whylen, "byte %zu: %s is not an allowed instruction", off,
				 x86_op_name(in.op));
			return -EPERM;
		}
		off += (size_t)n;
	}
	return 0;
}

/* Reads the read-only PT_LOAD segments of the (already validated) ELF. */
static int find_segments(struct vm *vm, struct integrity *in, const uint8_t *elf, size_t size)
{
	const Elf64_Ehdr *eh = (const void *)elf;

	if (size < sizeof(*eh) || eh->e_phentsize != sizeof(Elf64_Phdr) || eh->e_phoff > size ||
	    (uint64_t)eh->e_phnum * sizeof(Elf64_Phdr) > size - eh->e_phoff)
		return vm_set_err(vm, -ENOEXEC, "integrity: the kernel's program headers are bad");
	in->text_lo = UINT64_MAX;
	for (unsigned i = 0; i < eh->e_phnum; i++) {
		Elf64_Phdr ph;

		memcpy(&ph, elf + eh->e_phoff + i * sizeof(ph), sizeof(ph));
		if (ph.p_type != PT_LOAD || !ph.p_memsz || (ph.p_flags & PF_W))
			continue;
		if ((ph.p_paddr | ph.p_vaddr) & (GMEM_PAGE_SIZE - 1))
			return vm_set_err(vm, -ENOEXEC,
					  "integrity: read-only segment %u at %#llx is not page "
					  "aligned",
					  i, (unsigned long long)ph.p_paddr);
		if (in->nseg == INTEG_MAX_SEGS)
			return vm_set_err(vm, -ENOEXEC,
					  "integrity: more than %d read-only segments",
					  INTEG_MAX_SEGS);
		in->seg[in->nseg++] = (struct integ_seg){
			.va = ph.p_vaddr,
			.gpa = ph.p_paddr,
			.size = (ph.p_memsz + GMEM_PAGE_SIZE - 1) & ~(GMEM_PAGE_SIZE - 1),
			.exec = (ph.p_flags & PF_X) != 0,
		};
		if (ph.p_flags & PF_X) {
			if (ph.p_vaddr < in->text_lo)
				in->text_lo = ph.p_vaddr;
			if (ph.p_vaddr + ph.p_memsz > in->text_hi)
				in->text_hi = ph.p_vaddr + ph.p_memsz;
		}
	}
	if (!in->nseg || in->text_lo == UINT64_MAX)
		return vm_set_err(vm, -ENOEXEC, "integrity: the kernel has no read-only text");
	return 0;
}

/*
 * The kernel's TCB, if it has one: measured as loaded against the value the
 * build recorded, then set up as the secure domain. 0 (also: no TCB) or -errno.
 */
static int attach_tcb(struct vm *vm, struct integrity *in, const void *elf, size_t size)
{
	struct tcb_image t;
	uint8_t d[TCB_SHA256_LEN];
	char why[128], got[2 * TCB_SHA256_LEN + 1], want[2 * TCB_SHA256_LEN + 1];
	const void *loaded;
	int err = tcb_image_find(elf, size, &t, why, sizeof(why));

	if (err == -ENOENT)
		return 0; /* the VMM writes patches itself */
	if (err)
		return vm_set_err(vm, err, "integrity: the kernel's TCB: %s", why);
	/* raw pointer: the loader's time, no vCPU runs yet */
	loaded = gmem_ptr(&vm->mem, t.gpa, t.size);
	if (!loaded || tcb_sha256(loaded, t.size, d))
		return vm_set_err(vm, -EIO, "integrity: cannot measure the TCB");
	if (memcmp(d, t.recorded, sizeof(d))) {
		tcb_hex(d, got);
		tcb_hex(t.recorded, want);
		return vm_set_err(vm, -EPERM,
				  "integrity: the TCB (.tcb, %llu bytes at gpa %#llx) measures "
				  "sha256 %s but the image records %s: refusing to run it",
				  (unsigned long long)t.size, (unsigned long long)t.gpa, got, want);
	}
	in->tcb = t;
	in->has_tcb = true;
	return domain_attach(vm, &t);
}

int integrity_attach(struct vm *vm, const void *elf, size_t size, enum integrity_mode mode)
{
	struct integrity *in;
	int err;

	if (mode == INTEGRITY_OFF)
		return 0;
	in = calloc(1, sizeof(*in));
	if (!in)
		return vm_set_err(vm, -ENOMEM, "integrity: out of memory");
	in->vm = vm;
	in->mode = mode;
	pthread_mutex_init(&in->lock, NULL);
	err = find_segments(vm, in, elf, size);
	for (unsigned i = 0; !err && i < in->nseg; i++)
		err = vm_mem_protect(vm, in->seg[i].gpa, in->seg[i].size);
	if (!err)
		err = attach_tcb(vm, in, elf, size);
	if (!err) {
		err = vm_hook_attach(vm, &integrity_hooks, in);
		if (err)
			vm_set_err(vm, err, "integrity: cannot attach: %s", strerror(-err));
	}
	if (err) { /* vm->err says why */
		pthread_mutex_destroy(&in->lock);
		free(in);
		return err;
	}
	vm->boot_flags |= VESSEL_BOOT_F_INTEGRITY;
	return 0;
}

void integrity_counts(struct vm *vm, struct integrity_counts *out)
{
	struct integrity *in = vm_hook_find(vm, &integrity_hooks);

	memset(out, 0, sizeof(*out));
	if (!in)
		return;
	out->mode = in->mode;
	pthread_mutex_lock(&in->lock);
	out->sites = in->nsites;
	pthread_mutex_unlock(&in->lock);
	out->patches = __atomic_load_n(&in->patches, __ATOMIC_RELAXED);
	out->patch_refused = __atomic_load_n(&in->patch_refused, __ATOMIC_RELAXED);
	out->writes_refused = __atomic_load_n(&in->writes_refused, __ATOMIC_RELAXED);
}

/* The migration blob (little-endian host, same vessel build on both sides). */
#define INTEG_STATE_MAGIC 0x31474e49u /* "ING1" */

struct integ_state {
	uint32_t magic, mode, nseg, nsites, registered, has_tcb;
	struct {
		uint64_t va, gpa, size, exec;
	} seg[INTEG_MAX_SEGS];
	uint64_t text_lo, text_hi, tcb_gpa, tcb_size;
	uint8_t tcb_recorded[TCB_SHA256_LEN], tcb_measured[TCB_SHA256_LEN];
	uint64_t patches, patch_refused, writes_refused;
	struct vessel_patch_site sites[VESSEL_PATCH_SITES_MAX];
};

/* The TCB measured as it is now in guest memory (domain_measure). */
static int measure_now(struct vm *vm, uint8_t out[TCB_SHA256_LEN])
{
	struct domain *d = domain_find(vm);

	return d ? domain_measure(d, out) : -ENOENT;
}

int integrity_save(struct vm *vm, void **blob, size_t *len)
{
	struct integrity *in = vm_hook_find(vm, &integrity_hooks);
	struct integ_state *st;

	*blob = NULL;
	*len = 0;
	if (!in)
		return 0;
	st = calloc(1, sizeof(*st));
	if (!st)
		return -ENOMEM;
	st->magic = INTEG_STATE_MAGIC;
	st->mode = in->mode;
	st->nseg = in->nseg;
	for (unsigned i = 0; i < in->nseg; i++) {
		st->seg[i].va = in->seg[i].va;
		st->seg[i].gpa = in->seg[i].gpa;
		st->seg[i].size = in->seg[i].size;
		st->seg[i].exec = in->seg[i].exec;
	}
	st->text_lo = in->text_lo;
	st->text_hi = in->text_hi;
	st->has_tcb = in->has_tcb;
	if (in->has_tcb) {
		st->tcb_gpa = in->tcb.gpa;
		st->tcb_size = in->tcb.size;
		memcpy(st->tcb_recorded, in->tcb.recorded, TCB_SHA256_LEN);
		if (measure_now(vm, st->tcb_measured)) {
			free(st);
			return -EIO;
		}
	}
	pthread_mutex_lock(&in->lock);
	st->registered = in->registered;
	st->nsites = in->nsites;
	memcpy(st->sites, in->sites, in->nsites * sizeof(in->sites[0]));
	pthread_mutex_unlock(&in->lock);
	st->patches = __atomic_load_n(&in->patches, __ATOMIC_RELAXED);
	st->patch_refused = __atomic_load_n(&in->patch_refused, __ATOMIC_RELAXED);
	st->writes_refused = __atomic_load_n(&in->writes_refused, __ATOMIC_RELAXED);
	*blob = st;
	*len = sizeof(*st);
	return 0;
}

bool integrity_attached(struct vm *vm)
{
	return vm_hook_find(vm, &integrity_hooks) != NULL;
}

/* The source's layout must be this VM's: same kernel, same mode. */
static int restore_check(const struct integrity *in, const struct integ_state *st, char *err,
			 size_t errlen)
{
	if (st->mode != in->mode) {
		snprintf(err, errlen,
			 "the source VM runs with --integrity=%s, this destination with "
			 "--integrity=%s",
			 integrity_mode_name(st->mode), integrity_mode_name(in->mode));
		return -EPERM;
	}
	if (st->nseg != in->nseg || st->text_lo != in->text_lo || st->text_hi != in->text_hi ||
	    st->nsites > VESSEL_PATCH_SITES_MAX || st->registered > 1)
		goto kernel;
	for (unsigned i = 0; i < in->nseg; i++)
		if (st->seg[i].va != in->seg[i].va || st->seg[i].gpa != in->seg[i].gpa ||
		    st->seg[i].size != in->seg[i].size || st->seg[i].exec != in->seg[i].exec)
			goto kernel;
	if (st->has_tcb != in->has_tcb)
		goto kernel;
	if (in->has_tcb && (st->tcb_gpa != in->tcb.gpa || st->tcb_size != in->tcb.size ||
			    memcmp(st->tcb_recorded, in->tcb.recorded, TCB_SHA256_LEN)))
		goto kernel;
	return 0;
kernel:
	snprintf(err, errlen,
		 "the source VM's protected kernel text or TCB differs from this destination's "
		 "kernel (start the destination with the source's --kernel)");
	return -EPERM;
}

int integrity_restore(struct vm *vm, const void *blob, size_t len, char *err, size_t errlen)
{
	struct integrity *in = vm_hook_find(vm, &integrity_hooks);
	const struct integ_state *st = blob;
	uint8_t got[TCB_SHA256_LEN];
	char hgot[2 * TCB_SHA256_LEN + 1], hwant[2 * TCB_SHA256_LEN + 1];
	int rc;

	if (len != sizeof(*st) || st->magic != INTEG_STATE_MAGIC) {
		snprintf(err, errlen, "malformed integrity state (different vessel build?)");
		return -EPROTO;
	}
	if (!in) {
		snprintf(err, errlen,
			 "the source VM runs with --integrity=%s; this destination has integrity "
			 "off (start it with --integrity=%s and the source's kernel)",
			 integrity_mode_name(st->mode), integrity_mode_name(st->mode));
		return -EPERM;
	}
	rc = restore_check(in, st, err, errlen);
	if (rc)
		return rc;
	if (in->has_tcb) {
		/* the TCB pages arrived with the memory: they must be the measured TCB */
		if (measure_now(vm, got)) {
			snprintf(err, errlen, "cannot measure the TCB received");
			return -EIO;
		}
		if (memcmp(got, in->tcb.recorded, TCB_SHA256_LEN) ||
		    memcmp(got, st->tcb_measured, TCB_SHA256_LEN)) {
			tcb_hex(got, hgot);
			tcb_hex(in->tcb.recorded, hwant);
			snprintf(err, errlen,
				 "the TCB received (%llu bytes at gpa %#llx) measures sha256 %s, "
				 "the kernel records %s: refusing to run it",
				 (unsigned long long)in->tcb.size, (unsigned long long)in->tcb.gpa,
				 hgot, hwant);
			return -EPERM;
		}
	}
	pthread_mutex_lock(&in->lock);
	in->registered = st->registered;
	in->nsites = st->nsites;
	memcpy(in->sites, st->sites, st->nsites * sizeof(in->sites[0]));
	pthread_mutex_unlock(&in->lock);
	__atomic_store_n(&in->patches, st->patches, __ATOMIC_RELAXED);
	__atomic_store_n(&in->patch_refused, st->patch_refused, __ATOMIC_RELAXED);
	__atomic_store_n(&in->writes_refused, st->writes_refused, __ATOMIC_RELAXED);
	return 0;
}

/* A guest write to protected memory arrives as an MMIO write on a read-only slot. */
static bool integrity_exit(void *opaque, struct vcpu *v, struct kvm_run *run,
			   struct exit_result *res)
{
	struct integrity *in = opaque;
	const struct integ_seg *s;
	struct kvm_regs regs = { 0 };
	uint64_t gpa;

	if (run->exit_reason != KVM_EXIT_MMIO || !run->mmio.is_write)
		return false;
	gpa = run->mmio.phys_addr;
	s = seg_of_gpa(in, gpa);
	if (!s)
		return false;
	__atomic_fetch_add(&in->writes_refused, 1, __ATOMIC_RELAXED);
	if (v && v->fd >= 0)
		ioctl(v->fd, KVM_GET_REGS, &regs);
	if (in->mode == INTEGRITY_REPORT) {
		vm_log(in->vm,
		       "integrity: discarded a guest write of %u bytes to kernel %s at gpa %#llx "
		       "(va %#llx), vCPU %u, RIP after the write %#llx",
		       run->mmio.len, s->exec ? "text" : "rodata", (unsigned long long)gpa,
		       (unsigned long long)(s->va + (gpa - s->gpa)), v ? v->id : 0,
		       (unsigned long long)regs.rip);
		res->action = EXIT_CONTINUE;
		return true;
	}
	exit_fault(res,
		   "integrity: guest write of %u bytes to kernel %s at gpa %#llx (va %#llx) "
		   "refused, vCPU %u, RIP after the write %#llx",
		   run->mmio.len, s->exec ? "text" : "rodata", (unsigned long long)gpa,
		   (unsigned long long)(s->va + (gpa - s->gpa)), v ? v->id : 0,
		   (unsigned long long)regs.rip);
	return true;
}

static void integrity_detach(void *opaque)
{
	struct integrity *in = opaque;

	pthread_mutex_destroy(&in->lock);
	free(in);
}

static const struct vm_hook_ops integrity_hooks = {
	.name = "integrity",
	.exit = integrity_exit,
	.detach = integrity_detach,
};

/* REGISTER: the site table must lie in the protected read-only data. */
static int64_t do_register(struct integrity *in, const struct vessel_hc_text_patch *a)
{
	const struct integ_seg *s;
	struct vessel_patch_site sites[VESSEL_PATCH_SITES_MAX];
	uint64_t bytes = (uint64_t)a->len * sizeof(sites[0]);

	if (!a->len || a->len > VESSEL_PATCH_SITES_MAX)
		return -EINVAL;
	s = seg_of_va(in, a->addr, bytes);
	if (!s) {
		vm_log(in->vm, "integrity: patch-site table at %#llx is not in read-only memory",
		       (unsigned long long)a->addr);
		return -EINVAL;
	}
	if (gmem_read(&in->vm->mem, s->gpa + (a->addr - s->va), sites, bytes))
		return -EINVAL;
	for (unsigned i = 0; i < a->len; i++) {
		const struct integ_seg *t = seg_of_va(in, sites[i].addr, sites[i].len);

		if (!sites[i].len || !t || !t->exec) {
			vm_log(in->vm,
			       "integrity: patch site %u (%#llx, %llu bytes) is not in "
			       "kernel text",
			       i, (unsigned long long)sites[i].addr,
			       (unsigned long long)sites[i].len);
			return -EINVAL;
		}
	}
	pthread_mutex_lock(&in->lock);
	if (in->registered) {
		pthread_mutex_unlock(&in->lock);
		return -EBUSY;
	}
	memcpy(in->sites, sites, bytes);
	in->nsites = a->len;
	in->registered = true;
	pthread_mutex_unlock(&in->lock);
	return 0;
}

static bool in_site(struct integrity *in, uint64_t va, uint64_t len)
{
	bool ok = false;

	pthread_mutex_lock(&in->lock);
	for (unsigned i = 0; i < in->nsites && !ok; i++)
		ok = va >= in->sites[i].addr && va - in->sites[i].addr < in->sites[i].len &&
		     len <= in->sites[i].len - (va - in->sites[i].addr);
	pthread_mutex_unlock(&in->lock);
	return ok;
}

/* The TCB writes, in the secure domain; -EIO (res set: the VM stops) if it broke. */
static int64_t patch_by_tcb(struct domain *d, struct vcpu *v, const struct vessel_hc_text_patch *a,
			    struct exit_result *res)
{
	uint8_t *buf;
	uint64_t args[3] = { a->addr, domain_buffer(d, v, &buf), a->len };
	char why[256];
	int64_t ret;

	memcpy(buf, a->code, a->len); /* the checked bytes: the root cannot change them */
	if (domain_call(d, v, VESSEL_TCB_TEXT_WRITE, args, &ret, why, sizeof(why))) {
		exit_fault(res, "%s", why);
		return -EIO;
	}
	return ret;
}

static int64_t do_patch(struct integrity *in, struct vcpu *v, const struct vessel_hc_text_patch *a,
			struct exit_result *res)
{
	const struct integ_seg *s;
	struct domain *d = domain_find(in->vm);
	char why[160];
	int64_t ret;

	if (!a->len || a->len > VESSEL_PATCH_MAX)
		return -EINVAL;
	s = seg_of_va(in, a->addr, a->len);
	if (!s || !s->exec || !in_site(in, a->addr, a->len)) {
		vm_log(in->vm,
		       "integrity: patch of %u bytes at %#llx refused: not a registered "
		       "patch site",
		       a->len, (unsigned long long)a->addr);
		return -EPERM;
	}
	if (integrity_check_code(a->code, a->len, a->addr, in->text_lo, in->text_hi, why,
				 sizeof(why))) {
		vm_log(in->vm, "integrity: patch of %u bytes at %#llx refused: %s", a->len,
		       (unsigned long long)a->addr, why);
		return -EPERM;
	}
	if (d) {
		ret = patch_by_tcb(d, v, a, res);
		if (ret) {
			if (ret != -EIO)
				vm_log(in->vm,
				       "integrity: the TCB refused the patch at %#llx (%lld)",
				       (unsigned long long)a->addr, (long long)ret);
			return ret;
		}
	} else if (gmem_write(&in->vm->mem, s->gpa + (a->addr - s->va), a->code, a->len)) {
		return -EIO;
	}
	__atomic_fetch_add(&in->patches, 1, __ATOMIC_RELAXED);
	return 0;
}

static void hc_text_patch(struct vm *vm, struct vcpu *vcpu, uint64_t gpa, struct exit_result *res)
{
	struct integrity *in = vm_hook_find(vm, &integrity_hooks);
	struct vessel_hc_text_patch a;
	int64_t ret;

	if (hc_arg_read(vm, VESSEL_HC_TEXT_PATCH, gpa, &a, sizeof(a), res))
		return;
	if (!in)
		ret = -ENODEV;
	else if (a.op == VESSEL_TEXT_PATCH_REGISTER)
		ret = do_register(in, &a);
	else if (a.op == VESSEL_TEXT_PATCH_PATCH)
		ret = do_patch(in, vcpu, &a, res);
	else
		ret = -EINVAL;
	if (res->action != EXIT_CONTINUE)
		return; /* the secure domain broke: the VM stops */
	if (in && ret && a.op == VESSEL_TEXT_PATCH_PATCH)
		__atomic_fetch_add(&in->patch_refused, 1, __ATOMIC_RELAXED);
	hc_ret_write(vm, VESSEL_HC_TEXT_PATCH, gpa, offsetof(struct vessel_hc_text_patch, ret), ret,
		     res);
}

static const struct hypercall text_patch_hc = { VESSEL_HC_TEXT_PATCH, "text_patch", hc_text_patch };
HYPERCALL_REGISTER(text_patch_hc);

const char *integrity_mode_name(enum integrity_mode m)
{
	return m <= INTEGRITY_REPORT ? mode_names[m] : "?";
}
