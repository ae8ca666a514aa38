// SPDX-License-Identifier: MIT
/*
 * sptmodel: replay a page-table trace (vessel run --pt-trace) under trapping
 * shadow paging, the trapless accelerator and nested paging, and check the
 * model of this host's own shadow MMU against the KVM statistics recorded
 * in the trace. docs/sptmodel.md.
 */
#include "model.h"
#include "trace.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char usage[] =
	"usage: sptmodel [OPTIONS] TRACE\n"
	"\n"
	"Replay a page-table trace (vessel run --pt-trace FILE, kernel booted with\n"
	"pttrace=on) per workload (the trace's pt-mark segments) and print:\n"
	"  the trace: records by kind, mappings and how many were used;\n"
	"  the modes: exits and modelled cycles of (a) trapping shadow paging,\n"
	"    (b) the trapless accelerator, (c) nested paging;\n"
	"  the validation: this host's KVM counters against the model (k) of its\n"
	"    shadow MMU;\n"
	"  the sensitivity of the savings to the cost parameters.\n"
	"\n"
	"  --set NAME=VALUE   a parameter (repeatable; --params lists them)\n"
	"  --params           print the parameters and their values, then exit\n"
	"  --csv FILE         per-workload results as CSV (for plots)\n"
	"  --dump             print every record instead\n"
	"  --only SECTION     print one section: trace, modes, validation, sensitivity\n"
	"  -h, --help         this text\n"
	"\n"
	"Exit status: 0, 1 unreadable or invalid trace, 2 usage.\n";

enum ptype { P_U, P_D, P_B, P_X };

struct pdesc {
	const char *name;
	enum ptype type;
	size_t off;
	const char *help;
};

#define PD(n, t, h)                                                                                \
	{                                                                                          \
#n, t, offsetof(struct spt_params, n), h                                           \
	}
static const struct pdesc pdescs[] = {
	PD(flood, P_U, "writes to a shadowed table before it is zapped"),
	PD(tlb_entries, P_U, "TLB reach (4 KiB entries) refilled after a flush"),
	PD(stub_va, P_X, "address every new address space first touches (0: none)"),
	PD(unknown_accessed, P_B, "mappings alive at the end count as accessed"),
	PD(c_exit, P_D, "cycles: VM exit + re-entry with fault handling"),
	PD(c_emul, P_D, "cycles: emulating the trapping write"),
	PD(c_update, P_D, "cycles: writing one shadow entry"),
	PD(c_acc, P_D, "cycles: (b) device cost per intercepted write"),
	PD(c_dev_read, P_D, "cycles: (b) extra per PT entry read from device memory"),
	PD(reads_per_write, P_D, "(b) PT entry reads per traced write"),
	PD(c_move, P_D, "cycles: (b) moving a page into/out of device memory"),
	PD(c_walk1, P_D, "cycles: TLB miss, 1-D walk"),
	PD(c_walk2, P_D, "cycles: TLB miss, 2-D walk (nested)"),
	PD(refill, P_D, "fraction of resident pages re-missed after a flush"),
	PD(capacity, P_D, "TLB misses per used mapping after its first use"),
	PD(c_sync, P_D, "cycles: (a, unsync variant) re-checking one unsync table"),
	PD(b_cr3_exit, P_B, "(b) CR3 loads exit"),
	PD(b_invlpg_exit, P_B, "(b) invlpg exits"),
	PD(b_pf_exit, P_B, "(b) guest page faults exit"),
};
#define NPARAMS (sizeof(pdescs) / sizeof(pdescs[0]))

static int set_param(struct spt_params *p, const char *arg)
{
	const char *eq = strchr(arg, '=');
	char *end;

	for (size_t i = 0; eq && i < NPARAMS; i++) {
		const struct pdesc *d = &pdescs[i];
		void *f = (char *)p + d->off;

		if (strlen(d->name) != (size_t)(eq - arg) ||
		    strncmp(d->name, arg, (size_t)(eq - arg)))
			continue;
		errno = 0;
		if (d->type == P_D) {
			double v = strtod(eq + 1, &end);

			if (errno || end == eq + 1 || *end || v < 0)
				break;
			*(double *)f = v;
		} else {
			unsigned long long v = strtoull(eq + 1, &end, 0);

			if (errno || end == eq + 1 || *end || (d->type == P_B && v > 1) ||
			    (d->type == P_U && v > UINT32_MAX))
				break;
			if (d->type == P_U)
				*(unsigned *)f = (unsigned)v;
			else if (d->type == P_B)
				*(bool *)f = v;
			else
				*(uint64_t *)f = v;
		}
		return 0;
	}
	fprintf(stderr, "sptmodel: --set %s: unknown parameter or bad value (see --params)\n", arg);
	return -1;
}

static void print_params(const struct spt_params *p)
{
	for (size_t i = 0; i < NPARAMS; i++) {
		const struct pdesc *d = &pdescs[i];
		const void *f = (const char *)p + d->off;

		if (d->type == P_D)
			printf("%-16s %-12g %s\n", d->name, *(const double *)f, d->help);
		else if (d->type == P_U)
			printf("%-16s %-12u %s\n", d->name, *(const unsigned *)f, d->help);
		else if (d->type == P_B)
			printf("%-16s %-12d %s\n", d->name, *(const bool *)f, d->help);
		else
			printf("%-16s %#-12" PRIx64 " %s\n", d->name, *(const uint64_t *)f,
			       d->help);
	}
}

static void dump(const struct ptr_trace *t)
{
	for (size_t s = 0; s < t->nseg; s++) {
		const struct ptr_segment *g = &t->seg[s];

		printf("# segment %zu '%s': %zu records, %" PRIu64 " lost\n", s, g->name, g->nrec,
		       g->lost);
		for (size_t i = 0; i < g->nrec; i++) {
			const struct vessel_pt_rec *r = &g->rec[i];

			printf("%10u cpu%u %-6s L%u %#014" PRIx64 " %#018" PRIx64 " -> %#018" PRIx64
			       "\n",
			       r->seq, r->cpu, ptr_kind_name(r->kind), r->level, r->addr,
			       r->old_val, r->new_val);
		}
	}
}

static const char *seg_name(const struct ptr_segment *g)
{
	return g->marked ? g->name : "(unmarked)";
}

static void print_trace(const struct ptr_trace *t, const struct spt_counts *c)
{
	printf("## Trace\n\n");
	printf("| workload | records | lost | PT writes (leaf/upper) | CR3 loads | invlpg | "
	       "page faults (user) | new tables | mappings | used | written | end unknown |\n");
	printf("| --- | ---: | ---: | --- | ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: "
	       "|\n");
	for (size_t s = 0; s < t->nseg; s++) {
		const struct spt_counts *x = &c[s];

		printf("| %s | %" PRIu64 " | %" PRIu64 " | %" PRIu64 " (%" PRIu64 "/%" PRIu64
		       ") | %" PRIu64 " | %" PRIu64 " | %" PRIu64 " (%" PRIu64 ") | %" PRIu64
		       " | %" PRIu64 " | %" PRIu64 " | %" PRIu64 " | %" PRIu64 " |\n",
		       seg_name(&t->seg[s]), x->records, x->lost, x->writes, x->writes_leaf,
		       x->writes_upper, x->cr3, x->invlpg, x->faults, x->faults_user, x->new_tables,
		       x->epochs, x->epochs_accessed, x->epochs_dirty, x->epochs_unknown);
	}
	printf("\n");
}

static double pct_saved(double base, double v)
{
	return base > 0 ? 100.0 * (base - v) / base : 0;
}

static void print_modes(const struct ptr_trace *t, const struct spt_counts *c,
			const struct spt_counts *total, const struct spt_params *p)
{
	printf("## Modes (modelled MMU-virtualisation cost, Mcycles)\n\n");
	printf("| workload | (a) write traps | (a) shadow faults | (a) exits | (a) Mcyc | "
	       "(b) device writes | (b) shadow faults | (b) exits | (b) Mcyc | (c) exits | "
	       "TLB misses | (c) Mcyc | (b) saves vs (a) | (c) saves vs (a) |\n");
	printf("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | "
	       "---: | ---: | ---: |\n");
	for (size_t s = 0; s <= t->nseg; s++) {
		const struct spt_counts *x = s < t->nseg ? &c[s] : total;
		struct spt_price pr;

		spt_price(x, p, &pr);
		printf("| %s | %" PRIu64 " | %" PRIu64 " | %" PRIu64 " | %.2f | %" PRIu64
		       " | %" PRIu64 " | %" PRIu64 " | %.2f | %" PRIu64 " | %.0f | %.2f | %.1f%% | "
		       "%.1f%% |\n",
		       s < t->nseg ? seg_name(&t->seg[s]) : "**all**", x->a_traps, x->a_hidden,
		       x->a_exits, pr.a / 1e6, x->b_dev_writes, x->b_hidden, x->b_exits, pr.b / 1e6,
		       x->c_exits, pr.tlb_misses, pr.c / 1e6, pct_saved(pr.a, pr.b),
		       pct_saved(pr.a, pr.c));
	}
	printf("\n");
}

/* KVM statistics that are instant values, not counters */
static bool instant(const char *name)
{
	return !strcmp(name, "pages_4k") || !strcmp(name, "mmu_unsync");
}

/* The delta of stat `name` over segment s (instant: the value at its mark). */
static bool kvm_delta(const struct ptr_trace *t, size_t s, const char *name, uint64_t *v)
{
	bool found, prev_found = false;
	uint64_t now = ptr_stat(&t->seg[s], name, &found), before = 0;

	if (!found)
		return false;
	for (size_t k = s; k-- > 0;) {
		if (t->seg[k].marked) {
			before = ptr_stat(&t->seg[k], name, &prev_found);
			break;
		}
	}
	*v = instant(name) || !prev_found ? now : now - before;
	return true;
}

struct vrow {
	const char *kvm;
	const char *what;
	size_t off; /* in struct spt_counts */
};

#define VR(k, w, f)                                                                                \
	{                                                                                          \
		k, w, offsetof(struct spt_counts, f)                                               \
	}
static const struct vrow vrows[] = {
	VR("pf_guest", "guest page faults reflected (user #PF records)", k_pf_guest),
	VR("pf_fixed", "shadow faults fixed (first use of each used mapping)", k_pf_fixed),
	VR("pf_spurious", "shadow faults that only relink (a new root, shared tables)",
	   k_pf_spurious),
	VR("mmu_cache_miss", "shadow pages created", k_sp_created),
	VR("mmu_flooded", "shadow pages zapped by write flooding", k_flooded),
	VR("mmu_shadow_zapped", "shadow pages zapped", k_zapped),
	VR("mmu_pde_zapped", "non-zero writes to shadowed upper-level entries", k_pde_zapped),
	VR("pages_4k", "leaf shadow entries present at the mark", k_sptes),
	VR("mmu_unsync", "unsync shadow pages at the mark (stale ones user code writes)", k_unsync),
	VR("remote_tlb_flush_requests", "zaps of present shadow entries or pages", k_remote_flush),
	VR("invlpg", "invlpg (trace records)", invlpg),
	VR("mmu_pte_write", "page-table writes (not comparable: KVM counts every emulated write)",
	   writes),
};
#define NVROWS (sizeof(vrows) / sizeof(vrows[0]))

static void print_validation(const struct ptr_trace *t, const struct spt_counts *c)
{
	bool any = false;

	for (size_t s = 0; s < t->nseg; s++)
		any |= t->seg[s].nstats > 0;
	printf("## Validation: this host's KVM against the model (k) of its shadow MMU\n\n");
	if (!any) {
		printf("The trace has no KVM statistics (no pt-mark).\n\n");
		return;
	}
	printf("| workload | KVM counter | KVM | model | model/KVM | model counts |\n");
	printf("| --- | --- | ---: | ---: | ---: | --- |\n");
	for (size_t s = 0; s < t->nseg; s++) {
		if (!t->seg[s].nstats)
			continue;
		for (size_t i = 0; i < NVROWS; i++) {
			uint64_t kv, mv = *(const uint64_t *)((const char *)&c[s] + vrows[i].off);

			if (!kvm_delta(t, s, vrows[i].kvm, &kv)) {
				printf("| %s | %s | n/a | %" PRIu64
				       " | | %s (KVM has no such counter "
				       "here) |\n",
				       seg_name(&t->seg[s]), vrows[i].kvm, mv, vrows[i].what);
				continue;
			}
			if (kv)
				printf("| %s | %s | %" PRIu64 " | %" PRIu64 " | %.2f | %s |\n",
				       seg_name(&t->seg[s]), vrows[i].kvm, kv, mv,
				       (double)mv / (double)kv, vrows[i].what);
			else
				printf("| %s | %s | 0 | %" PRIu64 " | %s | %s |\n",
				       seg_name(&t->seg[s]), vrows[i].kvm, mv, mv ? "inf" : "=",
				       vrows[i].what);
		}
	}
	printf("\n");
}

static void print_sensitivity(const struct spt_counts *total, const struct spt_params *base)
{
	static const struct {
		const char *name;
		size_t off;
		double f[4];
	} axes[] = {
		{ "c_exit", offsetof(struct spt_params, c_exit), { 0.25, 0.5, 2, 4 } },
		{ "c_emul", offsetof(struct spt_params, c_emul), { 0.25, 0.5, 2, 4 } },
		{ "c_acc", offsetof(struct spt_params, c_acc), { 0.25, 0.5, 4, 16 } },
		{ "c_dev_read", offsetof(struct spt_params, c_dev_read), { 0, 0.5, 2, 4 } },
		{ "c_move", offsetof(struct spt_params, c_move), { 0.25, 0.5, 2, 4 } },
		{ "c_walk2", offsetof(struct spt_params, c_walk2), { 0.5, 0.75, 1.5, 2 } },
		{ "refill", offsetof(struct spt_params, refill), { 0.2, 0.5, 1.5, 2 } },
	};

	printf("## Sensitivity (all workloads): saving of (b) and (c) against (a)\n\n");
	printf("| parameter | base value | x%.2g | x%.2g | base | x%.2g | x%.2g |\n", axes[0].f[0],
	       axes[0].f[1], axes[0].f[2], axes[0].f[3]);
	printf("| --- | ---: | --- | --- | --- | --- | --- |\n");
	for (size_t a = 0; a < sizeof(axes) / sizeof(axes[0]); a++) {
		double basev = *(const double *)((const char *)base + axes[a].off);
		double cols[5] = { axes[a].f[0], axes[a].f[1], 1, axes[a].f[2], axes[a].f[3] };

		printf("| %s | %g |", axes[a].name, basev);
		for (int k = 0; k < 5; k++) {
			struct spt_params p = *base;
			struct spt_price pr;

			*(double *)((char *)&p + axes[a].off) = basev * cols[k];
			spt_price(total, &p, &pr);
			printf(" x%g: b %.1f%%, c %.1f%% |", cols[k], pct_saved(pr.a, pr.b),
			       pct_saved(pr.a, pr.c));
		}
		printf("\n");
	}
	{
		struct spt_params p = *base;
		struct spt_price pr, pr2;

		spt_price(total, base, &pr);
		printf("\nVariants (all workloads, base costs):\n\n");
		printf("- (a) with KVM's unsync optimisation (a leaf table traps once between TLB "
		       "flushes and is re-checked at the flush, c_sync %g): %.1f Mcycles instead "
		       "of "
		       "%.1f; (b) saves %.1f%% against it.\n",
		       base->c_sync, pr.a_unsync / 1e6, pr.a / 1e6, pct_saved(pr.a_unsync, pr.b));
		printf("- (b) also filling a new address space's shadow at its first load: saves "
		       "%.1f%% against (a).\n",
		       pct_saved(pr.a, pr.b_fill));
		p.b_cr3_exit = false;
		p.b_pf_exit = false;
		spt_price(total, &p, &pr2);
		printf("- (b) with CR3 loads and guest page faults handled without exits as well: "
		       "saves %.1f%% against (a).\n",
		       pct_saved(pr2.a, pr2.b));
		printf("- (c) nested paging costs as much as (a) once every used mapping misses "
		       "the TLB %.0f more times (capacity = %.0f); at capacity 10, 100, 1000:",
		       pr.breakeven, pr.breakeven);
		for (double cap = 10; cap <= 1000; cap *= 10) {
			p = *base;
			p.capacity = cap;
			spt_price(total, &p, &pr2);
			printf(" %.1f%%", pct_saved(pr2.a, pr2.c));
		}
		printf(" saved against (a).\n\n");
	}
}

static int write_csv(const char *path, const struct ptr_trace *t, const struct spt_counts *c,
		     const struct spt_params *p)
{
	FILE *f = fopen(path, "w");

	if (!f) {
		fprintf(stderr, "sptmodel: %s: %s\n", path, strerror(errno));
		return -1;
	}
	fprintf(f, "workload,writes,cr3,invlpg,faults_user,a_exits,b_exits,c_exits,a_mcyc,b_mcyc,"
		   "c_mcyc,tlb_misses,a_unsync_mcyc,b_fill_mcyc\n");
	for (size_t s = 0; s < t->nseg; s++) {
		struct spt_price pr;

		spt_price(&c[s], p, &pr);
		fprintf(f,
			"%s,%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64
			",%" PRIu64 ",%.4f,%.4f,%.4f,%.0f,%.4f,%.4f\n",
			seg_name(&t->seg[s]), c[s].writes, c[s].cr3, c[s].invlpg, c[s].faults_user,
			c[s].a_exits, c[s].b_exits, c[s].c_exits, pr.a / 1e6, pr.b / 1e6,
			pr.c / 1e6, pr.tlb_misses, pr.a_unsync / 1e6, pr.b_fill / 1e6);
	}
	if (fclose(f)) {
		fprintf(stderr, "sptmodel: %s: %s\n", path, strerror(errno));
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "set", required_argument, NULL, 's' },
		{ "params", no_argument, NULL, 'p' },
		{ "csv", required_argument, NULL, 'c' },
		{ "dump", no_argument, NULL, 'd' },
		{ "only", required_argument, NULL, 'o' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct spt_params p;
	struct ptr_trace t;
	struct spt_counts *c, total = { 0 };
	const char *csv = NULL, *only = NULL;
	bool do_dump = false, do_params = false;
	char err[512];
	int o, rc;

	spt_params_default(&p);
	while ((o = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (o) {
		case 's':
			if (set_param(&p, optarg))
				return 2;
			break;
		case 'p':
			do_params = true;
			break;
		case 'c':
			csv = optarg;
			break;
		case 'd':
			do_dump = true;
			break;
		case 'o':
			only = optarg;
			if (strcmp(only, "trace") && strcmp(only, "modes") &&
			    strcmp(only, "validation") && strcmp(only, "sensitivity")) {
				fprintf(stderr, "sptmodel: --only %s: not a section\n", only);
				return 2;
			}
			break;
		case 'h':
			fputs(usage, stdout);
			return 0;
		default:
			fputs(usage, stderr);
			return 2;
		}
	}
	if (do_params) {
		print_params(&p);
		return 0;
	}
	if (optind != argc - 1) {
		fputs(usage, stderr);
		return 2;
	}
	if (ptr_read_file(argv[optind], &t, err, sizeof(err))) {
		fprintf(stderr, "sptmodel: %s\n", err);
		return 1;
	}
	if (t.note[0])
		fprintf(stderr, "sptmodel: warning: %s: %s\n", argv[optind], t.note);
	if (do_dump) {
		dump(&t);
		ptr_free(&t);
		return 0;
	}
	c = calloc(t.nseg ? t.nseg : 1, sizeof(*c));
	rc = c ? spt_run(&t, &p, c) : -ENOMEM;
	if (rc) {
		fprintf(stderr, "sptmodel: %s\n", strerror(-rc));
		ptr_free(&t);
		free(c);
		return 1;
	}
	for (size_t s = 0; s < t.nseg; s++)
		spt_counts_add(&total, &c[s]);
	printf("# sptmodel %s: %u CPUs, %" PRIu64 " MiB, %" PRIu64 " records (%" PRIu64
	       " lost), %zu workloads%s\n\n",
	       argv[optind], t.cpus, t.mem_size >> 20, t.records, t.lost, t.nseg,
	       t.complete ? "" : " (incomplete trace)");
	if (!only || !strcmp(only, "trace"))
		print_trace(&t, c);
	if (!only || !strcmp(only, "modes"))
		print_modes(&t, c, &total, &p);
	if (!only || !strcmp(only, "validation"))
		print_validation(&t, c);
	if (!only || !strcmp(only, "sensitivity"))
		print_sensitivity(&total, &p);
	rc = csv ? write_csv(csv, &t, c, &p) : 0;
	ptr_free(&t);
	free(c);
	return rc ? 1 : 0;
}
