import { isDeepStrictEqual } from 'node:util';
import { EntityStore, type ItemChange, type ItemWrite } from '../store/entities.js';
import type { Key } from '../store/keys.js';

/** What a run does to one entity. */
export type PlanAction = 'create' | 'update' | 'delete' | 'archive';

export interface PlanLine {
  action: PlanAction;
  kind: string;
  name: string;
  id: string;
  /** What changes, for a person to read; never a secret's value. */
  details: string[];
}

/** A desired item, with what to tell the operator when it is written. */
export type DesiredItem = ItemWrite & { note?: string };

/** An item the stored entity had and the desired one may no longer need (an old name, trigger or token). */
export interface FormerItem {
  key: Key;
  note?: string;
}

/** One entity as the seed file wants it. */
export interface EntityIntent {
  kind: string;
  name: string;
  id: string;
  /** Every item the entity should have; the first is the entity itself. */
  desired: DesiredItem[];
  former?: FormerItem[];
  /** Set when the intent takes the entity away; otherwise the action is create or update. */
  removal?: 'delete' | 'archive';
}

export interface SeedPlan {
  lines: PlanLine[];
  notes: string[];
  /** The run's changes, as the transactions that apply them (each at most 100 items). */
  transactions: ItemChange[][];
  itemCount: number;
  unchangedItems: number;
}

const itemKey = (key: Key) => `${key.PK}|${key.SK}`;
/** Attributes that locate an item rather than describe the entity. */
const LOCATING_ATTRIBUTES = new Set(['PK', 'SK', 'GSI1PK', 'GSI1SK', 'kind']);
/** Attributes that change with every write and so say nothing about what changed. */
const BOOKKEEPING_ATTRIBUTES = new Set(['update_at']);

function sameItem(stored: Record<string, unknown>, desired: Record<string, unknown>): boolean {
  const comparable = (item: Record<string, unknown>) => {
    const { update_at: _ignored, ...rest } = item;
    return rest;
  };
  return isDeepStrictEqual(comparable(stored), comparable(desired));
}

function shown(value: unknown): string {
  const text = JSON.stringify(value) ?? 'none';
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

/** The fields of an entity that differ, as `field: old -> new`. */
function changedFields(stored: Record<string, unknown>, desired: Record<string, unknown>): string[] {
  const fields = new Set([...Object.keys(stored), ...Object.keys(desired)]);
  return [...fields]
    .filter((field) => !LOCATING_ATTRIBUTES.has(field) && !BOOKKEEPING_ATTRIBUTES.has(field))
    .filter((field) => !isDeepStrictEqual(stored[field], desired[field]))
    .map((field) => `${field}: ${shown(stored[field])} -> ${shown(desired[field])}`);
}

/** Names the secret fields that a write creates or changes, never their values. */
function changedSecrets(stored: Record<string, unknown> | undefined, desired: Record<string, unknown>): string[] {
  return Object.keys(desired)
    .filter((field) => !LOCATING_ATTRIBUTES.has(field) && stored?.[field] !== desired[field])
    .map((field) => `${field} ${stored?.[field] === undefined ? 'generated' : 'changed'}`);
}

/**
 * Reads each stored item at most once per run, so every decision compares with the state before the
 * run; strongly consistent, so a run right after another sees all of its writes.
 */
export class StoredItems {
  private readonly cache = new Map<string, Promise<Record<string, unknown> | undefined>>();

  constructor(private readonly store: EntityStore) {}

  get(key: Key): Promise<Record<string, unknown> | undefined> {
    const cacheKey = itemKey(key);
    let item = this.cache.get(cacheKey);
    if (!item) {
      item = this.store.getRawConsistently({ PK: key.PK, SK: key.SK });
      this.cache.set(cacheKey, item);
    }
    return item;
  }

  /** The entity a pointer item names. */
  async target(key: Key): Promise<string | undefined> {
    const item = await this.get(key);
    return typeof item?.target_id === 'string' ? item.target_id : undefined;
  }

  /** Items a Scan already returned need no second read. */
  remember(item: Record<string, unknown>): void {
    this.cache.set(itemKey(item as unknown as Key), Promise.resolve(item));
  }
}

/**
 * Compares intents with the stored items and collects the changes: an item is written only when
 * it differs from the stored one, and a former item (old name pointer, old trigger, old token) is
 * deleted when the desired state no longer has it and it still points at this entity. Each
 * entity's changes stay together, so a run split into several transactions never leaves half an
 * entity behind.
 */
export class Planner {
  private readonly lines: PlanLine[] = [];
  private readonly groups: ItemChange[][] = [];
  private readonly notes: string[] = [];
  /** Every item some intent of this run wants, written or not: such an item is never deleted. */
  private readonly desired = new Set<string>();
  private readonly written = new Set<string>();
  /** Deletes waiting in their group; a later write of the same item cancels its delete (a trigger handed from one command to another). */
  private readonly deletes = new Map<string, { group: ItemChange[]; change: ItemChange }>();
  private unchangedItems = 0;

  constructor(
    private readonly stored: StoredItems,
    private readonly nowMs: number,
  ) {}

  async reconcile(intent: EntityIntent): Promise<void> {
    const group: ItemChange[] = [];
    const details: string[] = [];
    const primaryKey = intent.desired[0]?.item;
    const primaryStored = primaryKey ? await this.stored.get(primaryKey) : undefined;
    for (const [index, write] of intent.desired.entries()) {
      const key = itemKey(write.item);
      if (this.desired.has(key)) continue;
      this.desired.add(key);
      const existing = await this.stored.get(write.item);
      const pendingDelete = this.deletes.get(key);
      if (pendingDelete) {
        pendingDelete.group.splice(pendingDelete.group.indexOf(pendingDelete.change), 1);
        this.deletes.delete(key);
      }
      if (existing && sameItem(existing, write.item) && !pendingDelete) {
        this.unchangedItems++;
        continue;
      }
      const item = { ...write.item };
      if (existing && 'update_at' in item) item.update_at = this.nowMs;
      group.push({ put: item });
      this.written.add(key);
      if (write.note) details.push(write.note);
      else if (item.kind === 'secrets') details.push(...changedSecrets(existing, item));
      else if (index === 0 && existing) details.push(...changedFields(existing, item));
    }
    for (const former of intent.former ?? []) {
      const key = itemKey(former.key);
      if (this.desired.has(key) || this.deletes.has(key)) continue;
      const existing = await this.stored.get(former.key);
      // A pointer that already names another entity is that entity's now, not ours to remove.
      if (!existing || (typeof existing.target_id === 'string' && existing.target_id !== intent.id)) continue;
      const change: ItemChange = { delete: { PK: former.key.PK, SK: former.key.SK } };
      group.push(change);
      this.deletes.set(key, { group, change });
      if (former.note) details.push(former.note);
    }
    if (group.length === 0) return;
    this.groups.push(group);
    const action = intent.removal ?? (primaryStored ? 'update' : 'create');
    this.lines.push({ action, kind: intent.kind, name: intent.name, id: intent.id, details });
  }

  wasWritten(key: Key): boolean {
    return this.written.has(itemKey(key));
  }

  note(text: string): void {
    this.notes.push(text);
  }

  finish(): SeedPlan {
    const transactions = packTransactions(this.groups, EntityStore.maxTransactionItems);
    return {
      lines: this.lines,
      notes: this.notes,
      transactions,
      itemCount: transactions.reduce((sum, transaction) => sum + transaction.length, 0),
      unchangedItems: this.unchangedItems,
    };
  }
}

/**
 * Packs groups into as few transactions as possible, in order, never splitting a group unless
 * it alone exceeds the limit (a channel archived with more hooks than a transaction holds).
 */
export function packTransactions(groups: ItemChange[][], limit: number): ItemChange[][] {
  const transactions: ItemChange[][] = [];
  let current: ItemChange[] = [];
  for (const group of groups) {
    if (group.length === 0) continue;
    if (current.length + group.length > limit && current.length > 0) {
      transactions.push(current);
      current = [];
    }
    for (let start = 0; start < group.length; start += limit) {
      const part = group.slice(start, start + limit);
      if (current.length + part.length > limit) {
        transactions.push(current);
        current = [];
      }
      current.push(...part);
    }
  }
  if (current.length > 0) transactions.push(current);
  return transactions;
}

/** The plan as the CLI prints it on stderr. */
export function formatPlan(fileName: string, plan: SeedPlan): string {
  const actions: PlanAction[] = ['create', 'update', 'delete', 'archive'];
  const tally = actions
    .map((action) => [action, plan.lines.filter((line) => line.action === action).length] as const)
    .filter(([, count]) => count > 0)
    .map(([action, count]) => `${count} to ${action}`)
    .join(', ');
  const header =
    plan.lines.length === 0
      ? `seed plan for ${fileName}: no changes`
      : `seed plan for ${fileName}: ${tally}; ${plan.itemCount} items in ${plan.transactions.length} transaction(s)`;
  const body = plan.lines.map((line) => {
    const details = line.details.length ? `: ${line.details.join('; ')}` : '';
    return `  ${line.action} ${line.kind} ${line.name} (id ${line.id})${details}`;
  });
  return [header, ...body, ...plan.notes.map((note) => `note: ${note}`)].join('\n');
}
