CREATE TABLE "dead_letters" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"sink" text NOT NULL,
	"stream" text NOT NULL,
	"stream_seq" bigint NOT NULL,
	"sale_id" text DEFAULT '' NOT NULL,
	"subject" text NOT NULL,
	"request_id" text,
	"deliveries" integer NOT NULL,
	"reason" text NOT NULL,
	"payload" "bytea" NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "dead_letters_message_key" UNIQUE("sink","stream","stream_seq","sale_id")
);
--> statement-breakpoint
CREATE TABLE "branches" (
	"branch_id" text PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"city" text,
	"country_id" text
);
--> statement-breakpoint
CREATE TABLE "countries" (
	"country_id" text PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"continent" text
);
--> statement-breakpoint
CREATE TABLE "products" (
	"product_id" text PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"category" text NOT NULL,
	"brand" text,
	"list_price" numeric(19, 4) NOT NULL,
	"currency" text NOT NULL,
	CONSTRAINT "products_list_price_check" CHECK ("products"."list_price" >= 0),
	CONSTRAINT "products_currency_check" CHECK ("products"."currency" ~ '^[A-Z]{3}$')
);
--> statement-breakpoint
CREATE TABLE "sale_lines" (
	"sale_id" text NOT NULL,
	"line_no" integer NOT NULL,
	"product_id" text NOT NULL,
	"product_name" text,
	"category" text NOT NULL,
	"brand" text,
	"quantity" integer NOT NULL,
	"unit_price" numeric(19, 4) NOT NULL,
	"discount" numeric(19, 4) NOT NULL,
	"net_amount" numeric(19, 4) NOT NULL,
	CONSTRAINT "sale_lines_sale_id_line_no_pk" PRIMARY KEY("sale_id","line_no"),
	CONSTRAINT "sale_lines_line_no_check" CHECK ("sale_lines"."line_no" >= 1),
	CONSTRAINT "sale_lines_quantity_check" CHECK ("sale_lines"."quantity" >= 1),
	CONSTRAINT "sale_lines_prices_check" CHECK ("sale_lines"."unit_price" >= 0 AND "sale_lines"."discount" >= 0)
);
--> statement-breakpoint
CREATE TABLE "sales" (
	"sale_id" text PRIMARY KEY NOT NULL,
	"kind" text NOT NULL,
	"original_sale_id" text,
	"branch_id" text NOT NULL,
	"register_id" text,
	"cashier_id" text,
	"customer_id" text,
	"buyer_country" text,
	"seller_country" text,
	"payment_method" text,
	"occurred_at" timestamp with time zone NOT NULL,
	"received_at" timestamp with time zone NOT NULL,
	"currency" text NOT NULL,
	"net_total" numeric(19, 4) NOT NULL,
	"line_count" integer NOT NULL,
	"stream_seq" bigint NOT NULL,
	"request_id" text,
	"stored_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "sales_kind_check" CHECK ("sales"."kind" IN ('sale', 'return')),
	CONSTRAINT "sales_return_has_original_check" CHECK ("sales"."kind" = 'sale' OR "sales"."original_sale_id" IS NOT NULL),
	CONSTRAINT "sales_net_total_sign_check" CHECK (("sales"."kind" = 'sale' AND "sales"."net_total" >= 0) OR ("sales"."kind" = 'return' AND "sales"."net_total" <= 0)),
	CONSTRAINT "sales_currency_check" CHECK ("sales"."currency" ~ '^[A-Z]{3}$'),
	CONSTRAINT "sales_line_count_check" CHECK ("sales"."line_count" >= 1)
);
--> statement-breakpoint
ALTER TABLE "branches" ADD CONSTRAINT "branches_country_id_countries_country_id_fk" FOREIGN KEY ("country_id") REFERENCES "public"."countries"("country_id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "dead_letters_created_idx" ON "dead_letters" USING btree ("created_at");--> statement-breakpoint
CREATE INDEX "branches_country_idx" ON "branches" USING btree ("country_id");--> statement-breakpoint
CREATE INDEX "products_category_idx" ON "products" USING btree ("category");--> statement-breakpoint
CREATE INDEX "sale_lines_product_idx" ON "sale_lines" USING btree ("product_id");--> statement-breakpoint
CREATE INDEX "sales_branch_occurred_idx" ON "sales" USING btree ("branch_id","occurred_at","sale_id");--> statement-breakpoint
CREATE INDEX "sales_occurred_idx" ON "sales" USING btree ("occurred_at","sale_id");--> statement-breakpoint
CREATE INDEX "sales_customer_occurred_idx" ON "sales" USING btree ("customer_id","occurred_at") WHERE "sales"."customer_id" IS NOT NULL;--> statement-breakpoint
CREATE INDEX "sales_original_sale_idx" ON "sales" USING btree ("original_sale_id") WHERE "sales"."original_sale_id" IS NOT NULL;