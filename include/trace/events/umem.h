/* SPDX-License-Identifier: GPL-2.0 */
/*
 * umem trace points: one event per pin and per release, with the time each
 * took, so a slow registration can be told apart from a slow release.
 */
#undef TRACE_SYSTEM
#define TRACE_SYSTEM umem

#if !defined(_TRACE_UMEM_H) || defined(TRACE_HEADER_MULTI_READ)
#define _TRACE_UMEM_H

#include <linux/err.h>
#include <linux/tracepoint.h>
#include <linux/umem.h>

TRACE_EVENT(umem_pin,

	TP_PROTO(const struct umem_args *args, const struct umem *umem,
		 u64 duration_ns),

	TP_ARGS(args, umem, duration_ns),

	TP_STRUCT__entry(
		__field(unsigned long, start)
		__field(size_t, length)
		__field(unsigned long, npages)
		__field(unsigned int, nents)
		__field(bool, writable)
		__field(u64, duration_ns)
		__field(int, ret)
	),

	TP_fast_assign(
		__entry->start = args->start;
		__entry->length = args->length;
		__entry->npages = IS_ERR(umem) ? 0 : umem->npages;
		__entry->nents = IS_ERR(umem) ? 0 : umem_nents(umem);
		__entry->writable = args->flags & UMEM_WRITE;
		__entry->duration_ns = duration_ns;
		__entry->ret = PTR_ERR_OR_ZERO(umem);
	),

	TP_printk("start=0x%lx length=%zu npages=%lu nents=%u writable=%d duration_ns=%llu ret=%d",
		  __entry->start, __entry->length, __entry->npages,
		  __entry->nents, __entry->writable, __entry->duration_ns,
		  __entry->ret)
);

TRACE_EVENT(umem_release,

	TP_PROTO(const struct umem *umem, unsigned int nents, bool dirty,
		 u64 duration_ns),

	TP_ARGS(umem, nents, dirty, duration_ns),

	TP_STRUCT__entry(
		__field(unsigned long, start)
		__field(size_t, length)
		__field(unsigned long, npages)
		__field(unsigned int, nents)
		__field(bool, dirty)
		__field(u64, duration_ns)
	),

	TP_fast_assign(
		__entry->start = umem->address;
		__entry->length = umem->length;
		__entry->npages = umem->npages;
		__entry->nents = nents;
		__entry->dirty = dirty;
		__entry->duration_ns = duration_ns;
	),

	TP_printk("start=0x%lx length=%zu npages=%lu nents=%u dirty=%d duration_ns=%llu",
		  __entry->start, __entry->length, __entry->npages,
		  __entry->nents, __entry->dirty, __entry->duration_ns)
);

#endif /* _TRACE_UMEM_H */

/* This part must be outside protection */
#include <trace/define_trace.h>
