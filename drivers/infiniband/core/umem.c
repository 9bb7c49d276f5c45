// SPDX-License-Identifier: GPL-2.0 OR Linux-OpenIB
/*
 * Copyright (c) 2005 Topspin Communications.  All rights reserved.
 * Copyright (c) 2005 Cisco Systems.  All rights reserved.
 * Copyright (c) 2005 Mellanox Technologies. All rights reserved.
 * Copyright (c) 2020 Intel Corporation. All rights reserved.
 *
 * This software is available to you under a choice of one of two
 * licenses.  You may choose to be licensed under the terms of the GNU
 * General Public License (GPL) Version 2, available from the file
 * COPYING in the main directory of this source tree, or the
 * OpenIB.org BSD license below:
 *
 *     Redistribution and use in source and binary forms, with or
 *     without modification, are permitted provided that the following
 *     conditions are met:
 *
 *      - Redistributions of source code must retain the above
 *        copyright notice, this list of conditions and the following
 *        disclaimer.
 *
 *      - Redistributions in binary form must reproduce the above
 *        copyright notice, this list of conditions and the following
 *        disclaimer in the documentation and/or other materials
 *        provided with the distribution.
 *
 * THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND,
 * EXPRESS OR IMPLIED, INCLUDING BUT NOT LIMITED TO THE WARRANTIES OF
 * MERCHANTABILITY, FITNESS FOR A PARTICULAR PURPOSE AND
 * NONINFRINGEMENT. IN NO EVENT SHALL THE AUTHORS OR COPYRIGHT HOLDERS
 * BE LIABLE FOR ANY CLAIM, DAMAGES OR OTHER LIABILITY, WHETHER IN AN
 * ACTION OF CONTRACT, TORT OR OTHERWISE, ARISING FROM, OUT OF OR IN
 * CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER DEALINGS IN THE
 * SOFTWARE.
 */

/*
 * ib_umem_get() is a thin RDMA layer over the umem library (lib/umem.c,
 * Documentation/core-api/umem.rst): the library pins the range, charges it
 * to mm->pinned_vm and builds the scatterlist in &ib_umem.pin, whose table
 * is the &ib_umem.sgt_append every driver reads. This file keeps what is
 * RDMA's own: the checks and errnos of the verbs ABI and the choice of DMA
 * device and direction. umem_dma_map() maps for the ib_device's dma_device,
 * or, for devices without DMA (INFINIBAND_VIRT_DMA: rxe, siw, rdmavt), with
 * kernel virtual addresses as ib_dma_map_sgtable_attrs() would; every
 * device keeps the bidirectional mapping it always had. The page-size
 * logic is the library's, applied to the DMA view of any ib_umem, dma-buf
 * ones included.
 */

#include <linux/mm.h>
#include <linux/dma-mapping.h>
#include <linux/sched/signal.h>
#include <linux/sched/mm.h>
#include <linux/export.h>
#include <linux/slab.h>
#include <linux/pagemap.h>
#include <linux/umem.h>
#include <rdma/ib_umem_odp.h>

#include "uverbs.h"

MODULE_IMPORT_NS(UMEM);

/* Drivers, dma-buf and ODP umems use sgt_append without knowing of @pin. */
static_assert(offsetof(struct ib_umem, pin.sgt_append) ==
	      offsetof(struct ib_umem, sgt_append));

/**
 * ib_umem_find_best_pgsz - Find best HW page size to use for this MR
 *
 * @umem: umem struct
 * @pgsz_bitmap: bitmap of HW supported page sizes
 * @virt: IOVA
 *
 * This helper is intended for HW that support multiple page
 * sizes but can do only a single page size in an MR.
 *
 * Also records @virt as the umem's iova.
 *
 * Return: the page size, or 0 if the umem requires page sizes not
 * supported by the driver to be mapped. Drivers always supporting
 * PAGE_SIZE or smaller will never see a 0 result.
 */
unsigned long ib_umem_find_best_pgsz(struct ib_umem *umem,
				     unsigned long pgsz_bitmap,
				     u64 virt)
{
	umem->iova = virt;

	if (umem->is_odp) {
		unsigned int page_size = BIT(to_ib_umem_odp(umem)->page_shift);

		/* ODP must always be self consistent. */
		if (!(pgsz_bitmap & page_size))
			return 0;
		return page_size;
	}

	/* Pinned and dma-buf umems alike: the DMA view of sgt_append. */
	return umem_sgt_find_best_pgsz(&umem->sgt_append.sgt,
				       umem->address & ~PAGE_MASK, umem->length,
				       pgsz_bitmap, virt);
}
EXPORT_SYMBOL(ib_umem_find_best_pgsz);

/**
 * ib_umem_get - Pin and DMA map userspace memory.
 *
 * @device: IB device to connect UMEM
 * @addr: userspace virtual address to start at
 * @size: length of region to pin
 * @access: IB_ACCESS_xxx flags for memory being pinned
 *
 * Pins the range through umem_init(), charged to mm->pinned_vm, and maps
 * it bidirectionally for @device. Release with ib_umem_release().
 *
 * Context: Process context. May sleep.
 * Return: the umem, or ERR_PTR(-EINVAL) if the range wraps or is empty,
 * ERR_PTR(-EPERM) if the caller may not lock memory, ERR_PTR(-EOPNOTSUPP)
 * for IB_ACCESS_ON_DEMAND, or an errno of umem_init() or of the DMA
 * mapping.
 */
struct ib_umem *ib_umem_get(struct ib_device *device, unsigned long addr,
			    size_t size, int access)
{
	struct umem_args args = {
		.start = addr,
		.length = size,
		.flags = UMEM_SGT,
		.max_seg_size = ib_dma_max_seg_size(device),
	};
	unsigned long dma_attr = 0;
	struct ib_umem *umem;
	int ret;

	/*
	 * If the combination of the addr and size requested for this memory
	 * region causes an integer overflow, return error.
	 */
	if (((addr + size) < addr) ||
	    PAGE_ALIGN(addr + size) < (addr + size))
		return ERR_PTR(-EINVAL);

	if (!can_do_mlock())
		return ERR_PTR(-EPERM);

	if (access & IB_ACCESS_ON_DEMAND)
		return ERR_PTR(-EOPNOTSUPP);

	umem = kzalloc(sizeof(*umem), GFP_KERNEL);
	if (!umem)
		return ERR_PTR(-ENOMEM);
	umem->ibdev      = device;
	/*
	 * Drivers should call ib_umem_find_best_pgsz() to set the iova
	 * correctly.
	 */
	umem->iova = addr;
	if (ib_access_writable(access))
		args.flags |= UMEM_WRITE;

	/*
	 * Pinned memory is charged to mm->pinned_vm against RLIMIT_MEMLOCK,
	 * which CAP_IPC_LOCK lifts; asked only when over the limit, as before.
	 */
	args.acct.ask_cap = true;
	/*
	 * Undone in ib_umem_release(). Fills umem->owning_mm (the library's
	 * mmgrab() of current->mm), ->address, ->length and ->writable, which
	 * are @pin's fields.
	 */
	ret = umem_init(&umem->pin, &args);
	if (ret)
		goto umem_kfree;

	if (access & IB_ACCESS_RELAXED_ORDERING)
		dma_attr |= DMA_ATTR_WEAK_ORDERING;

	/* Undone by umem_uninit() in ib_umem_release() */
	ret = umem_dma_map(&umem->pin,
			   ib_uses_virt_dma(device) ? NULL : device->dma_device,
			   DMA_BIDIRECTIONAL, dma_attr);
	if (ret)
		goto umem_uninit;
	return umem;

umem_uninit:
	umem_uninit(&umem->pin, false);
umem_kfree:
	kfree(umem);
	return ERR_PTR(ret);
}
EXPORT_SYMBOL(ib_umem_get);

/**
 * ib_umem_release - release memory pinned with ib_umem_get
 * @umem: umem struct to release
 */
void ib_umem_release(struct ib_umem *umem)
{
	if (!umem)
		return;
	if (umem->is_dmabuf)
		return ib_umem_dmabuf_release(to_ib_umem_dmabuf(umem));
	if (umem->is_odp)
		return ib_umem_odp_release(to_ib_umem_odp(umem));

	/* Unmaps, unpins, dirties and uncharges. */
	umem_uninit(&umem->pin, true);
	kfree(umem);
}
EXPORT_SYMBOL(ib_umem_release);

/*
 * Copy from the given ib_umem's pages to the given buffer.
 *
 * umem - the umem to copy from
 * offset - offset to start copying from
 * dst - destination buffer
 * length - buffer length
 *
 * Returns 0 on success, or an error code.
 */
int ib_umem_copy_from(void *dst, struct ib_umem *umem, size_t offset,
		      size_t length)
{
	size_t end = offset + length;

	if (offset > umem->length || length > umem->length - offset) {
		pr_err("%s not in range. offset: %zd umem length: %zd end: %zd\n",
		       __func__, offset, umem->length, end);
		return -EINVAL;
	}

	return umem_copy_from(dst, &umem->pin, offset, length);
}
EXPORT_SYMBOL(ib_umem_copy_from);

/*
 * Called during rereg mr if the driver is able to re-use a umem for
 * IB_MR_REREG_ACCESS.
 */
int ib_umem_check_rereg(struct ib_umem *umem, int flags, int new_access_flags)
{
	if (!umem)
		return 0;

	if ((flags & IB_MR_REREG_ACCESS) && !(flags & IB_MR_REREG_TRANS))
		if (ib_access_writable(new_access_flags) && !umem->writable)
			return -EACCES;
	return 0;
}
EXPORT_SYMBOL(ib_umem_check_rereg);
