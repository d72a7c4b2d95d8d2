/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Kernel-version branches that only pick how to reach the same thing on
 * each supported kernel (see the table in docs/kernel.md).
 */
#ifndef ETMEM_COMPAT_H
#define ETMEM_COMPAT_H

#include <linux/mm.h>
#include <linux/version.h>

/**
 * etmem_apply_ptes() - run @fn on each PTE of one existing PTE table
 * @mm: the address space
 * @addr: start, inside a PMD the caller found holding a PTE table
 * @size: length, not past the end of that PMD
 * @fn: called under the PTE lock; must skip entries that are not present
 * @data: passed to @fn
 *
 * apply_to_existing_page_range() lost its export in 6.14. On a PMD that
 * already holds a table, apply_to_page_range() allocates nothing and only
 * adds calls for empty PTEs, which the callbacks skip as not present. (If
 * the table vanished in between, it installs an empty one.)
 *
 * Return: 0, or the first non-zero value of @fn, or a negative errno.
 */
static inline int etmem_apply_ptes(struct mm_struct *mm, unsigned long addr,
				   unsigned long size, pte_fn_t fn, void *data)
{
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 14, 0)
	return apply_to_page_range(mm, addr, size, fn, data);
#else
	return apply_to_existing_page_range(mm, addr, size, fn, data);
#endif
}

#endif /* ETMEM_COMPAT_H */
