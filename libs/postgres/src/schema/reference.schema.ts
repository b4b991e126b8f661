import { sql } from 'drizzle-orm';
import { check, index, numeric, pgTable, text } from 'drizzle-orm/pg-core';

/**
 * Reference data the seeds' reports join against: countries (with their continent, for the
 * country-contribution reports), branches and the product catalogue with list prices. Sales do
 * not reference them by foreign key: a till must be able to sell a product the catalogue does
 * not know yet, and the stream must never stall on it.
 */
export const countries = pgTable('countries', {
  countryId: text('country_id').primaryKey(),
  name: text('name').notNull(),
  continent: text('continent'),
});

export const branches = pgTable(
  'branches',
  {
    branchId: text('branch_id').primaryKey(),
    name: text('name').notNull(),
    city: text('city'),
    countryId: text('country_id').references(() => countries.countryId),
  },
  (t) => [index('branches_country_idx').on(t.countryId)],
);

export const products = pgTable(
  'products',
  {
    productId: text('product_id').primaryKey(),
    name: text('name').notNull(),
    category: text('category').notNull(),
    brand: text('brand'),
    listPrice: numeric('list_price', { precision: 19, scale: 4 }).notNull(),
    currency: text('currency').notNull(),
  },
  (t) => [
    index('products_category_idx').on(t.category),
    check('products_list_price_check', sql`${t.listPrice} >= 0`),
    check('products_currency_check', sql`${t.currency} ~ '^[A-Z]{3}$'`),
  ],
);
