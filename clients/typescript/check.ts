// What a TypeScript integrator writes against the generated client: build a listing,
// encode it for ScreenListing, read a verdict back, and name the RPC. `tsc --strict`
// checks it against the code generated from proto/ (see clients/check).
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import {
  Decision,
  ListingSchema,
  ScreenListingRequestSchema,
  ScreenListingResponseSchema,
  ScreeningService,
} from "./gen/assay/screening/v1/screening_pb";
import { MoneySchema } from "./gen/assay/common/v1/common_pb";

const request = create(ScreenListingRequestSchema, {
  listing: create(ListingSchema, {
    listingId: "L-1001",
    sellerId: "S-77",
    title: "replica tote, AAA mirror quality",
    category: "handbags",
    price: create(MoneySchema, { currencyCode: "EUR", units: 95n }),
  }),
  minCatalogueRevision: 0n,
});
const wire: Uint8Array = toBinary(ScreenListingRequestSchema, request);
const answer = fromBinary(ScreenListingResponseSchema, new Uint8Array());
const blocked: boolean = answer.verdict?.decision === Decision.BLOCK;
const method: string = ScreeningService.method.screenListing.name;
export { wire, blocked, method };
