/**
 * The default catalog: the supermarket seed's three branches and ten products. Issue-level
 * catalog import (CSV) will replace this; until then the simulator sells from it.
 */
export interface CatalogProduct {
  readonly productId: string;
  readonly name: string;
  readonly category: string;
  readonly brand: string;
  readonly listPrice: string;
}

export const DEFAULT_BRANCHES = ['branch-north', 'branch-centre', 'branch-south'] as const;

export const DEFAULT_PRODUCTS: readonly CatalogProduct[] = [
  { productId: 'P001', name: 'Whole milk 1L', category: 'dairy', brand: 'Farmhouse', listPrice: '1.15' },
  { productId: 'P002', name: 'Sourdough bread', category: 'bakery', brand: 'Oven & Co', listPrice: '3.40' },
  {
    productId: 'P003',
    name: 'Free-range eggs x12',
    category: 'dairy',
    brand: 'Farmhouse',
    listPrice: '3.99',
  },
  { productId: 'P004', name: 'Bananas 1kg', category: 'produce', brand: 'Tropico', listPrice: '1.79' },
  { productId: 'P005', name: 'Ground coffee 500g', category: 'pantry', brand: 'Altura', listPrice: '7.49' },
  { productId: 'P006', name: 'Olive oil 750ml', category: 'pantry', brand: 'Oliva', listPrice: '8.95' },
  { productId: 'P007', name: 'Cheddar 400g', category: 'dairy', brand: 'Valley', listPrice: '4.60' },
  { productId: 'P008', name: 'Tomatoes 500g', category: 'produce', brand: 'Sunripe', listPrice: '2.25' },
  {
    productId: 'P009',
    name: 'Sparkling water 6x1.5L',
    category: 'beverages',
    brand: 'Fonte',
    listPrice: '3.60',
  },
  { productId: 'P010', name: 'Dark chocolate 100g', category: 'snacks', brand: 'Cacao+', listPrice: '2.10' },
];
