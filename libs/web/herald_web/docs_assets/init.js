// Starts Swagger UI on the page's #swagger-ui element, reading the OpenAPI document's URL
// from its data-openapi-url attribute. A file of its own, not an inline script, so a
// Content-Security-Policy of script-src 'self' allows the page.
window.addEventListener("load", function () {
  var root = document.getElementById("swagger-ui");
  window.ui = SwaggerUIBundle({
    url: root.dataset.openapiUrl,
    dom_id: "#swagger-ui",
    deepLinking: true,
    presets: [SwaggerUIBundle.presets.apis],
    layout: "BaseLayout",
  });
});
