/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Physically contiguous runs of pinned pages: what pin_user_pages_runs_fast()
 * and pin_user_pages_runs_remote() return instead of one page pointer per
 * page. See Documentation/core-api/pin_user_pages.rst.
 */
#ifndef _LINUX_PAGE_RUNS_H
#define _LINUX_PAGE_RUNS_H

#include <linux/types.h>

struct mm_struct;
struct page;

/**
 * struct page_run - physically contiguous pages
 * @pfn: page frame number of the first page.
 * @nr_pages: number of pages, at least 1.
 *
 * A run says nothing about folios: it may start or end inside one, cover
 * several, or cover part of a folio whose other pages are mapped elsewhere.
 * Contiguity is decided from the pfns alone.
 */
struct page_run {
	unsigned long pfn;
	unsigned long nr_pages;
};

/**
 * struct page_runs - an array of runs to fill
 * @runs: storage for @max runs.
 * @max: capacity of @runs, at least 1.
 * @nr: runs in use. Filling appends, extending the last run when the next
 *	page is pfn-adjacent to it; a caller that wants a fresh list sets 0.
 */
struct page_runs {
	struct page_run *runs;
	unsigned int max;
	unsigned int nr;
};

/**
 * page_runs_add() - Append a physically contiguous range to runs
 * @runs: the runs
 * @pfn: first page frame number of the range
 * @nr_pages: number of pages, at least 1
 *
 * Extends the last run if @pfn follows it, otherwise starts a new run.
 *
 * Return: %true, or %false if a new run was needed and @runs is full.
 */
static inline bool page_runs_add(struct page_runs *runs, unsigned long pfn,
				 unsigned long nr_pages)
{
	struct page_run *last = runs->nr ? &runs->runs[runs->nr - 1] : NULL;

	if (last && last->pfn + last->nr_pages == pfn) {
		last->nr_pages += nr_pages;
		return true;
	}
	if (runs->nr == runs->max)
		return false;
	runs->runs[runs->nr].pfn = pfn;
	runs->runs[runs->nr].nr_pages = nr_pages;
	runs->nr++;
	return true;
}

/**
 * page_runs_can_add() - Would page_runs_add() succeed?
 * @runs: the runs
 * @pfn: first page frame number of the range to add
 *
 * Return: %true if @pfn extends the last run or a run is free.
 */
static inline bool page_runs_can_add(const struct page_runs *runs,
				     unsigned long pfn)
{
	const struct page_run *last = runs->nr ? &runs->runs[runs->nr - 1] : NULL;

	return runs->nr < runs->max ||
	       (last && last->pfn + last->nr_pages == pfn);
}

unsigned long page_runs_add_pages(struct page_runs *runs, struct page **pages,
				  unsigned long nr_pages);

long pin_user_pages_runs_fast(unsigned long start, unsigned long nr_pages,
			      unsigned int gup_flags, struct page_runs *runs);
long pin_user_pages_runs_remote(struct mm_struct *mm, unsigned long start,
				unsigned long nr_pages, unsigned int gup_flags,
				struct page_runs *runs, int *locked);
void unpin_user_page_runs(const struct page_run *runs, unsigned int nr_runs,
			  bool make_dirty);

#endif /* _LINUX_PAGE_RUNS_H */
