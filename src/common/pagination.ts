import type { Type as Class } from '@nestjs/common';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsInt, IsOptional, IsString, Max, Min } from 'class-validator';

/** Keyset pagination: `limit` rows, then pass `nextCursor` back as `cursor` for the next page. */
export class PageQueryDto {
  @ApiPropertyOptional({ minimum: 1, maximum: 200, default: 50 })
  @IsOptional() @Type(() => Number) @IsInt() @Min(1) @Max(200)
  limit?: number;

  @ApiPropertyOptional({ description: 'nextCursor from the previous page' })
  @IsOptional() @IsString()
  cursor?: string;
}

export interface Page<T> {
  data: T[];
  nextCursor: string | null;
}

export interface List<T> {
  data: T[];
}

/** `ConnectionDto` → `Connection`: the item's name in its envelopes' schema names. */
const itemName = (item: Class<unknown>) => item.name.replace(/Dto$/, '');
const named = <T extends Class<unknown>>(cls: T, name: string): T => Object.defineProperty(cls, 'name', { value: name });
const pages = new Map<Class<unknown>, Class<unknown>>();
const lists = new Map<Class<unknown>, Class<unknown>>();

/**
 * The documented page of `item` (schema `<Item>Page`: data + nextCursor), for @ApiOkResponse({ type }).
 * One class per item type, so every operation listing it refers to the same schema.
 */
export function PageOf<T>(item: Class<T>): Class<Page<T>> {
  let page = pages.get(item);
  if (!page) {
    class ItemPage implements Page<T> {
      @ApiProperty({ type: item, isArray: true })
      data: T[];

      @ApiProperty({ type: String, nullable: true, description: 'Pass as `cursor` for the next page; null on the last page' })
      nextCursor: string | null;
    }
    page = named(ItemPage, `${itemName(item)}Page`);
    pages.set(item, page);
  }
  return page as Class<Page<T>>;
}

/** The documented unpaginated list of `item` (schema `<Item>List`: data). */
export function ListOf<T>(item: Class<T>): Class<List<T>> {
  let list = lists.get(item);
  if (!list) {
    class ItemList implements List<T> {
      @ApiProperty({ type: item, isArray: true })
      data: T[];
    }
    list = named(ItemList, `${itemName(item)}List`);
    lists.set(item, list);
  }
  return list as Class<List<T>>;
}

export class InvalidCursorError extends Error {}

export function encodeCursor(value: Record<string, string>): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

export function decodeCursor<T extends Record<string, string>>(cursor: string | undefined, keys: (keyof T)[]): T | undefined {
  if (!cursor) return undefined;
  try {
    const value = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (keys.every((k) => typeof value?.[k] === 'string')) return value as T;
  } catch {
    // fall through
  }
  throw new InvalidCursorError('cursor is not one this API returned');
}

/** Builds a page from `limit + 1` fetched rows. */
export function toPage<T>(rows: T[], limit: number, cursorOf: (last: T) => Record<string, string>): Page<T> {
  const data = rows.slice(0, limit);
  return { data, nextCursor: rows.length > limit ? encodeCursor(cursorOf(data[data.length - 1])) : null };
}
